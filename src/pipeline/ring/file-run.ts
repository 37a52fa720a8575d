import { Worker } from 'node:worker_threads';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MigscopeError, UsageError } from '../../core/errors.js';
import { PcapRecordIndex } from '../../ingest/record-index.js';
import type { CaptureFormat, ReaderStats } from '../../ingest/types.js';
import type { ProtocolMessage } from '../../protocols/types.js';
import { FILE_MAX_HELD_MESSAGES, FlowControl } from './flow-control.js';
import { WatermarkMerger } from './merge.js';
import { compiledWorkerScript } from '../../core/compiled-script.js';
import type { FileWalk, FileWorkerData, FromFileWorker } from './protocol.js';
import { workerLimits } from '../../dissect/memory-budget.js';
import { FileShare, type ShareResult } from './file-share.js';
import { LocalShareOutput } from './local-share.js';

export interface FileWorkersOptions {
  path: string;
  workers: number;
  onMessage: (msg: ProtocolMessage) => void;
  /** Read in place from a mapping (default: openCapture's). */
  map?: boolean;
  /** 'reader' makes every share read the file with the JS reader (default: the addon walks pcap files; MIGSCOPE_FILE_SPLIT=reader). */
  walk?: FileWalk;
  /** Stops: the workers are terminated, what was merged stays delivered. */
  signal?: AbortSignal;
  /** The output's backpressure: while it is blocked the workers stop reading (./flow-control.ts). */
  backpressure?: () => Promise<void> | undefined;
  /** The Dissectors' memory budget in bytes, split evenly between the workers (default 256 MiB in all). */
  maxMemory?: number;
}

export interface FileWorkersResult {
  format: CaptureFormat;
  /** The reader's counts for the whole file (from share 0; every share walks it all). */
  reader: ReaderStats;
  problem?: string;
  /** Packets each share decoded (its share of the flows). */
  perWorker: number[];
  aborted: boolean;
}

/**
 * A capture file split by flows into N shares (./file-share.ts), their messages merged
 * back into file order: the same messages as one Dissector over the whole file, in the
 * same order (test/native/file-workers-parity.test.ts). A pcap file the addon can walk
 * is decoded by the main thread (share 0, ./local-share.ts) and N − 1 worker threads;
 * any other file by N worker threads.
 */
export function runFileWorkers(opts: FileWorkersOptions): Promise<FileWorkersResult> {
  const W = opts.workers;
  if (!Number.isInteger(W) || W < 1 || W > 64) throw new UsageError(`--workers must be 1…64, got ${W}`);
  const walk = opts.walk ?? (process.env.MIGSCOPE_FILE_SPLIT === 'reader' ? 'reader' : 'native');
  const limits = workerLimits(W, opts.maxMemory);
  const localIndex = walk === 'native' ? PcapRecordIndex.open(opts.path, W, 0) : undefined;
  const script = compiledWorkerScript(import.meta.url, 'file-worker.js', 'src/pipeline/ring');
  return new Promise<FileWorkersResult>((resolve, reject) => {
    const merger = new WatermarkMerger(W, opts.onMessage);
    const flow = new FlowControl(W, opts.backpressure, FILE_MAX_HELD_MESSAGES);
    const done: (ShareResult | undefined)[] = new Array(W).fill(undefined);
    const workers: Worker[] = [];
    let remaining = W;
    let failure: Error | undefined;
    let aborted = false;
    /** Wakes the main thread's share when a worker said something (it waits for their watermarks). */
    let wake: (() => void) | undefined;
    const woken = (): void => { const w = wake; wake = undefined; w?.(); };
    let local: { share: FileShare; out: LocalShareOutput } | undefined;
    const stopAll = (): void => {
      for (const w of workers) void w.terminate();
      if (local !== undefined) { local.out.stopped = true; local.share.stop(); }
      woken();
    };
    const onAbort = (): void => { aborted = true; stopAll(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const ended = (): void => {
      woken();
      if (--remaining > 0) return;
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      const first = done[0];
      if (first === undefined) {
        if (aborted) return resolve({ format: 'pcap', reader: emptyReaderStats(), perWorker: [], aborted });
        return reject(new MigscopeError('file workers ended without a result'));
      }
      const result: FileWorkersResult = {
        format: first.format, reader: first.reader, perWorker: done.map((d) => d?.packets ?? 0), aborted,
      };
      if (first.problem !== undefined) result.problem = first.problem;
      resolve(result);
    };
    for (let i = localIndex !== undefined ? 1 : 0; i < W; i++) {
      const data: FileWorkerData = {
        path: opts.path, index: i, workers: W, batchMessages: 4096, postEveryPackets: 32768, flow: flow.words, limits, walk,
        ...(opts.map !== undefined ? { map: opts.map } : {}),
      };
      const w = new Worker(script, { workerData: data });
      workers.push(w);
      w.on('message', (m: FromFileWorker) => {
        if (m.type === 'batch') { merger.push(m); flow.merged(m.worker, (w) => merger.pendingOf(w)); }
        else { done[m.worker] = m; merger.close(m.worker); flow.held((w) => merger.pendingOf(w)); }
        woken();
      });
      w.on('error', (e) => {
        // The reader's own errors (a file that went away, a read failure) keep their text.
        failure ??= e instanceof MigscopeError ? e : new MigscopeError(`${opts.path}: file worker ${i} failed: ${e.message}`, { cause: e });
        stopAll();
      });
      w.on('exit', () => {
        if (done[i] === undefined && failure === undefined && !aborted) {
          failure = new MigscopeError(`${opts.path}: file worker ${i} exited before the end of the file`);
          stopAll();
        }
        ended();
      });
    }
    if (localIndex === undefined) return;
    // Share 0 on this thread, a walk batch (≤ 4096 of its packets) at a time, giving the
    // event loop a turn after each so the workers' batches are merged meanwhile.
    const out = new LocalShareOutput(merger, 0, W);
    let turned = false;
    const pace = (): Promise<void> | undefined => {
      // What this thread merged may have freed a worker the merge held back: tell it.
      flow.held((w) => merger.pendingOf(w));
      // Ahead of a slower worker: wait for its next batch instead of queueing more.
      if (merger.pendingOf(0) > FILE_MAX_HELD_MESSAGES && failure === undefined && !aborted) {
        return new Promise<void>((r) => { wake = r; });
      }
      const slow = opts.backpressure?.();
      if (slow !== undefined) return slow;
      turned = !turned;
      return turned ? nextTurn() : undefined;
    };
    const share = new FileShare({
      path: opts.path, workers: W, index: 0, walk, limits, batchMessages: 1, postEveryPackets: 1,
      ...(opts.map !== undefined ? { map: opts.map } : {}),
    }, out, pace);
    local = { share, out };
    share.run(localIndex).then((r) => {
      done[0] = r;
      merger.close(0);
      flow.held((w) => merger.pendingOf(w));
    }, (e: Error) => {
      failure ??= e instanceof MigscopeError ? e : new MigscopeError(`${opts.path}: ${e.message}`, { cause: e });
      stopAll();
    }).finally(ended);
  });
}

function emptyReaderStats(): ReaderStats {
  return { packets: 0, bytes: 0, malformedRecords: 0, truncated: false, lostFrames: 0, duplicateFrames: 0, skippedBytes: 0 };
}
