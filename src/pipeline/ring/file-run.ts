import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { MigscopeError, UsageError } from '../../core/errors.js';
import type { CaptureFormat, ReaderStats } from '../../ingest/types.js';
import type { ProtocolMessage } from '../../protocols/types.js';
import { FlowControl } from './flow-control.js';
import { WatermarkMerger } from './merge.js';
import { compiledWorkerScript } from '../../core/compiled-script.js';
import type { FileDoneFromWorker, FileWalk, FileWorkerData, FromFileWorker } from './protocol.js';
import { workerLimits } from '../../dissect/memory-budget.js';

export interface FileWorkersOptions {
  path: string;
  workers: number;
  onMessage: (msg: ProtocolMessage) => void;
  /** Read in place from a mapping (default: openCapture's). */
  map?: boolean;
  /** 'reader' makes every worker read the file with the JS reader (default: the addon walks pcap files; MIGSCOPE_FILE_SPLIT=reader). */
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
  /** The reader's counts for the whole file (from worker 0; every worker reads it all). */
  reader: ReaderStats;
  problem?: string;
  /** Packets each worker decoded (its share of the flows). */
  perWorker: number[];
  aborted: boolean;
}

/**
 * A capture file analysed by N worker threads split by flows (see ./file-worker.ts),
 * their messages merged back into file order: the same messages as one Dissector over
 * the whole file, in the same order (test/native/offline-parity.test.ts).
 */
export function runFileWorkers(opts: FileWorkersOptions): Promise<FileWorkersResult> {
  const W = opts.workers;
  if (!Number.isInteger(W) || W < 1 || W > 64) throw new UsageError(`--workers must be 1…64, got ${W}`);
  const script = compiledWorkerScript(import.meta.url, 'file-worker.js', 'src/pipeline/ring');
  return new Promise<FileWorkersResult>((resolve, reject) => {
    const merger = new WatermarkMerger(W, opts.onMessage);
    const flow = new FlowControl(W, opts.backpressure);
    const done: (FileDoneFromWorker | undefined)[] = new Array(W).fill(undefined);
    const workers: Worker[] = [];
    let remaining = W;
    let failure: Error | undefined;
    let aborted = false;
    const stopAll = (): void => { for (const w of workers) void w.terminate(); };
    const onAbort = (): void => { aborted = true; stopAll(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const ended = (): void => {
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
      if (process.env.FS_DEBUG_CPU) {
        const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
        console.error(`main utime ${Number(f[11]) * 10} ms stime ${Number(f[12]) * 10} ms at ${performance.now().toFixed(0)} ms`);
      }
      resolve(result);
    };
    for (let i = 0; i < W; i++) {
      const data: FileWorkerData = {
        path: opts.path, index: i, workers: W, batchMessages: 512, postEveryPackets: 8192, flow: flow.words,
        limits: workerLimits(W, opts.maxMemory),
        ...(opts.map !== undefined ? { map: opts.map } : {}),
        walk: opts.walk ?? (process.env.MIGSCOPE_FILE_SPLIT === 'reader' ? 'reader' : 'native'),
      };
      const w = new Worker(script, { workerData: data });
      workers.push(w);
      w.on('message', (m: FromFileWorker) => {
        if (m.type === 'batch') { merger.push(m); flow.merged(m.worker, (w) => merger.pendingOf(w)); }
        else { done[m.worker] = m; merger.close(m.worker); flow.held((w) => merger.pendingOf(w)); }
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
  });
}

function emptyReaderStats(): ReaderStats {
  return { packets: 0, bytes: 0, malformedRecords: 0, truncated: false, lostFrames: 0, duplicateFrames: 0, skippedBytes: 0 };
}
