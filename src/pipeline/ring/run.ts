import { Worker } from 'node:worker_threads';
import { anomalyMessage, type AnomalyDef } from '../../core/anomaly.js';
import type { ProtocolMessage } from '../../protocols/types.js';
import { CaptureAnomaly } from '../../ingest/anomaly-codes.js';
import { CaptureError, UsageError } from '../../core/errors.js';
import { channels } from '../../core/diagnostics.js';
import type { NativeCapture, NativeCaptureStats, NativeSource } from '../../ingest/live/native.js';
import { PacketRingUnavailable } from '../../ingest/live/packet-ring.js';
import { WatermarkMerger, type MessageTiming } from './merge.js';
import { wallClockUs } from '../../core/time.js';
import { FlowControl } from './flow-control.js';
import { type FromWorker, type WorkerCounters, type WorkerDecoder } from './protocol.js';
import {
  libpcapBackend, packetRingBackend, type CaptureBackend, type CaptureBackendStats, type CapturePath, type PacketRingSource, type WorkerCommon,
} from './capture-backend.js';
import { workerLimits } from '../../dissect/memory-budget.js';

export type RingSource =
  | { kind: 'file'; path: string; filter?: string }
  | { kind: 'iface'; name: string; filter?: string; snaplen?: number; promisc?: boolean; bufferSize?: number; netns?: string }
  | { kind: 'dpmi-iface'; name: string; mampid?: string; multicast?: string; netns?: string };

export interface RingPipelineStats extends CaptureBackendStats {
  /** Messages merged and handed to onMessage so far. */
  messages: number;
  /** Wire time of the slowest worker's newest packet (ps). */
  watermarkTs: bigint;
}

export interface RingPipelineOptions {
  source: RingSource | Extract<NativeSource, { kind: 'synthetic' }>;
  workers: number;
  onMessage: (msg: ProtocolMessage) => void;
  onStats?: (stats: RingPipelineStats) => void;
  statsIntervalMs?: number;
  /** Data bytes per ring (power of two). Default 16 MiB. */
  ringBytes?: number;
  /** Aborting stops the capture; workers drain their rings and the run resolves. */
  signal?: AbortSignal;
  /** Stop on SIGINT (flush, final stats) instead of dying. */
  handleSigint?: boolean;
  decoder?: WorkerDecoder;
  /** The Dissectors' memory budget in bytes, split evenly between the workers (default 256 MiB in all). */
  maxMemory?: number;
  /** Bound on how long workers may take to drain after the capture ended. */
  drainTimeoutMs?: number;
  /**
   * The output's backpressure (see AnalyzeOptions): while it is blocked the workers stop
   * taking packets from their rings, so a slow reader turns into ring drops on a live
   * source (counted) and into a slower read of a file, never into a growing heap.
   */
  backpressure?: () => Promise<void> | undefined;
  /**
   * Live interfaces: 'auto' (default) reads AF_PACKET rings in place, falling back to
   * libpcap where AF_PACKET is unavailable; 'pcap' forces libpcap; 'af-packet' never falls back.
   */
  capture?: 'auto' | 'af-packet' | 'pcap';
  /** AF_PACKET workers warm their decoders up before capturing (default true). */
  warmUp?: boolean;
  /** Test fault injection: worker `worker` throws after `packets` packets. */
  crashWorker?: { worker: number; packets: number };
  /**
   * Latency tracing (bench/live-latency.ts): called just before onMessage with the
   * message's way through the workers and the merge. Off by default (it costs a clock
   * read per batch and an object per message).
   */
  onTiming?: (timing: MessageTiming, msg: ProtocolMessage) => void;
}

export interface RingPipelineResult {
  stats: RingPipelineStats;
  workers: WorkerCounters[];
}

export interface RingPipelineHandle {
  stop(): void;
  /** Resolves once the capture takes packets (AF_PACKET: every worker warmed up). */
  readonly ready: Promise<void>;
  readonly done: Promise<RingPipelineResult>;
}

/**
 * A worker's longest wait before handing on messages or its watermark. Was 20 ms, most
 * of the 7–15 ms median marker → event latency on live migrations; at 1 ms an idle
 * worker posts at most 1000 watermark-only batches a second (~20 µs each).
 */
export const DECODE_FLUSH_MS = 1;

/**
 * Capture → W decode workers → merged ProtocolMessages, in capture order: W AF_PACKET
 * rings of one fanout group read in place (live interfaces), or libpcap → W rings.
 */
export function runRingPipeline(opts: RingPipelineOptions): Promise<RingPipelineResult> {
  return startRingPipeline(opts).done;
}

export function startRingPipeline(opts: RingPipelineOptions): RingPipelineHandle {
  const W = opts.workers;
  if (!Number.isInteger(W) || W < 1 || W > 64) throw new UsageError(`--workers must be 1…64, got ${W}`);
  const backend = openBackend(opts);
  let merged = 0;
  let lastTs = 0n;
  const onTiming = opts.onTiming;
  const merger = new WatermarkMerger(W, (msg, timing) => {
    merged++;
    if (msg.tsEnd > lastTs) lastTs = msg.tsEnd;
    if (onTiming !== undefined && timing !== undefined) onTiming(timing, msg);
    opts.onMessage(msg);
  }, onTiming !== undefined ? wallClockUs : undefined);
  const reported = { ring: 0, kernel: 0, frames: 0 };
  const counters: (WorkerCounters | undefined)[] = new Array(W).fill(undefined);
  const workers: Worker[] = [];
  let failure: Error | undefined;
  let stopped = false;
  const flow = new FlowControl(W, opts.backpressure);
  let readyWorkers = 0;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => { resolveReady = r; });

  const snapshot = (): RingPipelineStats => {
    let slowest: bigint | undefined;
    for (const ts of merger.watermarkTs) if (slowest === undefined || ts < slowest) slowest = ts;
    return { ...backend.stats(), messages: merged, watermarkTs: slowest ?? 0n };
  };
  const reportLosses = (s: NativeCaptureStats): void => {
    const ringDrops = s.rings.reduce((a, r) => a + r.dropped, 0);
    const emitLoss = (def: AnomalyDef, count: number): void => {
      if (count <= 0) return;
      opts.onMessage(anomalyMessage(def, count, lastTs, lastTs, -1, { ip: '', port: 0 }, { ip: '', port: 0 }));
    };
    emitLoss(CaptureAnomaly.RING_FULL, ringDrops - reported.ring);
    emitLoss(CaptureAnomaly.KERNEL_DROP, s.kernelDrops + s.interfaceDrops - reported.kernel);
    emitLoss(CaptureAnomaly.DPMI_FRAME_LOSS, s.dpmiLostFrames - reported.frames);
    reported.ring = ringDrops;
    reported.kernel = s.kernelDrops + s.interfaceDrops;
    // A late frame takes back loss already reported: never report it twice.
    if (s.dpmiLostFrames > reported.frames) reported.frames = s.dpmiLostFrames;
  };
  const tick = (): void => {
    const s = snapshot();
    reportLosses(s);
    channels.captureStats.publish(s);
    opts.onStats?.(s);
  };

  /**
   * Messages wait for workers that promised nothing late enough: promise for the idle
   * ones from their rings (no thread to wake: the frontier first, then no batch of
   * theirs in flight, as the worker posts a block's messages before handing it back),
   * and ask the others.
   */
  const unblock = (): void => {
    if (merger.pending === 0) return;
    if (backend.idlePromise !== undefined) {
      for (const w of merger.blockers()) {
        const key = backend.idlePromise(w);
        if (key !== undefined && flow.inFlight(w) === 0) merger.promise(w, key);
      }
      if (merger.pending === 0) return;
    }
    backend.wantWatermark(merger.blockers());
  };

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    backend.stop();
  };
  const fail = (err: Error): void => {
    if (failure === undefined) failure = err;
    stop();
    for (const w of workers) void w.terminate();
  };

  const done = new Promise<RingPipelineResult>((resolve, reject) => {
    let remaining = W;
    let drainTimer: NodeJS.Timeout | undefined;
    const timer = setInterval(tick, opts.statsIntervalMs ?? 1000);
    const onAbort = (): void => stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const onSigint = (): void => stop();
    if (opts.handleSigint) process.once('SIGINT', onSigint);
    const finish = (): void => {
      clearInterval(timer);
      if (drainTimer) clearTimeout(drainTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      process.off('SIGINT', onSigint);
      backend.close();
      if (failure) { reject(failure); return; }
      const stats = snapshot();
      reportLosses(stats);
      channels.captureStats.publish(stats);
      opts.onStats?.(stats);
      resolve({ stats, workers: counters as WorkerCounters[] });
    };
    const workerEnded = (): void => { if (--remaining === 0) finish(); };

    const common: WorkerCommon = {
      workers: W, decoder: opts.decoder ?? 'dissector', flow: flow.words,
      limits: workerLimits(W, opts.maxMemory), ...(onTiming !== undefined ? { traceLatency: true } : {}),
    };
    for (let i = 0; i < W; i++) {
      const data = backend.workerData(i, opts.crashWorker?.worker === i ? { ...common, crashAfterPackets: opts.crashWorker.packets } : common);
      const w = new Worker(backend.script, { workerData: data });
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          if (++readyWorkers === W && !stopped) {
            try { backend.workersReady(); resolveReady(); } catch (e) { fail(e as Error); }
          }
          return;
        }
        if (m.type === 'batch') { merger.push(m); flow.merged(m.worker, (w) => merger.pendingOf(w)); }
        else { counters[m.worker] = m.counters; merger.close(m.worker); flow.held((w) => merger.pendingOf(w)); }
        unblock();
      });
      w.on('error', (e) => fail(new CaptureError(`decode worker ${i} crashed: ${e.message}`, { cause: e })));
      w.on('exit', (code) => {
        if (counters[i] === undefined && failure === undefined) {
          fail(new CaptureError(`decode worker ${i} exited (code ${code}) before draining its ring`));
        }
        workerEnded();
      });
    }
    backend.ended.then(
      () => {
        // The capture is over; workers now drain what is left. Bound that wait (time spent
        // waiting for a slow reader of the output does not count).
        const arm = (): void => {
          drainTimer = setTimeout(() => {
            if (flow.paused) arm();
            else fail(new CaptureError('decode workers did not drain their rings in time'));
          }, opts.drainTimeoutMs ?? 120_000);
        };
        arm();
      },
      (e: Error) => fail(e),
    );
    backend.start();
    if (backend.path === 'libpcap') resolveReady();
  });
  done.then(() => resolveReady(), () => resolveReady());
  return { stop, done, ready };
}

/**
 * The capture path of a run: a live interface (iface:, dpmi-iface:) reads AF_PACKET
 * rings in place unless `capture: 'pcap'` asks for libpcap, or AF_PACKET is unavailable
 * here (then libpcap, unless `capture: 'af-packet'` insisted). Files take libpcap.
 */
function openBackend(opts: RingPipelineOptions): CaptureBackend {
  const src = opts.source;
  const mode = opts.capture ?? 'auto';
  // A specific multicast group to join is libpcap's (the AF_PACKET path joins all multicast).
  const ring: PacketRingSource | undefined = src.kind === 'iface' ? src
    : src.kind === 'dpmi-iface' && src.multicast === undefined
      ? { name: src.name, ...(src.netns !== undefined ? { netns: src.netns } : {}), dpmi: src.mampid !== undefined ? { mampid: src.mampid } : {} }
      : undefined;
  if (ring !== undefined && mode !== 'pcap') {
    try {
      return packetRingBackend(ring, opts.workers, opts.warmUp ?? true);
    } catch (e) {
      if (!(e instanceof PacketRingUnavailable) || mode === 'af-packet') throw e;
    }
  }
  if (mode === 'af-packet') throw new UsageError(`--capture af-packet reads live interfaces only, not ${src.kind} sources`);
  return libpcapBackend(src as NativeSource, opts.workers, opts.ringBytes, DECODE_FLUSH_MS);
}

export type { NativeCapture, CapturePath };
