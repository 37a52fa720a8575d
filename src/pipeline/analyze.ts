import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { anomalyMessage, type AnomalyDef, type AnomalyFields } from '../core/anomaly.js';
import { UsageError } from '../core/errors.js';
import { fromSecPsec, type Picos } from '../core/time.js';
import { Dissector } from '../dissect/dissector.js';
import type { DissectorStats } from '../dissect/stats.js';
import { CaptureAnomaly } from '../ingest/anomaly-codes.js';
import { openCapture, STDIN, type CaptureFile } from '../ingest/file-source.js';
import { libpcapMisreads } from '../ingest/libpcap-fit.js';
import type { CaptureFormat, ReaderStats } from '../ingest/types.js';
import type { PacketBatch } from '../ingest/batch.js';
import { PhaseEngine, type EngineSummary, type HostRoles } from '../phases/engine.js';
import type { PhaseEvent } from '../phases/events.js';
import type { ProtocolMessage } from '../protocols/types.js';

export interface AnalyzeOptions {
  onEvent: (ev: PhaseEvent) => void;
  /** Every protocol message, before the phase engine sees it (`decode`). */
  onMessage?: (msg: ProtocolMessage) => void;
  /** Pace packets to their wire time (watch, demo). */
  realtime?: boolean;
  /** Realtime speed-up factor (2 = twice as fast as the wire). Default 1. */
  speed?: number;
  /** BPF filter: applied by libpcap to live sources only (see parseSource). */
  filter?: string;
  labels?: Record<string, string>;
  hosts?: HostRoles;
  /** The hypervisor's maximum downtime, for the pre-copy convergence verdict (default 300 ms). */
  downtimeLimitMs?: number;
  /** Stops reading; what was read is analysed and the summary returned. */
  signal?: AbortSignal;
  /**
   * The output's backpressure: undefined when it can take more, else a promise that
   * resolves once it drained. Awaited between batches of packets, so a slow reader slows
   * the run instead of the output queueing in the heap (src/output/stream.ts).
   */
  backpressure?: () => Promise<void> | undefined;
  /**
   * Decode workers behind the native capture ring. Live sources always use the ring
   * (default 2); a file goes through it only when this is set (libpcap reads it, so
   * --filter applies), otherwise through the pure-TS reader in this thread.
   */
  workers?: number;
  /** `--capture`: live interfaces read AF_PACKET rings in place ('auto', the default, falls back to libpcap). */
  capture?: 'auto' | 'af-packet' | 'pcap';
  /** `--max-memory`: the Dissector's memory budget in bytes, split between workers (default 256 MiB). */
  maxMemory?: number;
  /** Cumulative capture counters while the run goes on (serve's metrics): after each
   *  file batch, or every statsIntervalMs on the native ring path. */
  onCaptureStats?: (stats: CaptureCounters) => void;
}

/** Cumulative counters of one run's capture. */
export interface CaptureCounters {
  packets: number;
  bytes: number;
  ringDrops: number;
  kernelDrops: number;
}

export interface SourceSummary {
  source: string;
  format: CaptureFormat | 'live';
  stats?: ReaderStats;
  problem?: string;
  /**
   * Native path: packets captured, ring-full drops, kernel drops (pcap_stats, or the
   * AF_PACKET sockets' PACKET_STATISTICS summed), and which capture path it was.
   */
  ring?: { packets: number; ringDrops: number; kernelDrops: number; lostFrames?: number; path?: 'af-packet' | 'libpcap' };
}

export interface Summary extends EngineSummary {
  sources: SourceSummary[];
  dissector?: DissectorStats;
}

export type ParsedSource =
  | { kind: 'file'; path: string }
  | { kind: 'iface'; name: string }
  | { kind: 'dpmi-iface'; name: string; mampid?: string };

const FILE_PREFIXES = ['pcap:', 'pcapng:', 'dpmi:'];

/** SOURCE → file path or live interface (DESIGN §2). Format prefixes are optional:
 *  the format is always detected from the magic bytes. */
export function parseSource(source: string): ParsedSource {
  if (source.startsWith('iface:')) return { kind: 'iface', name: source.slice(6) };
  if (source.startsWith('dpmi-iface:')) {
    const [name, mampid] = source.slice(11).split('/');
    return mampid ? { kind: 'dpmi-iface', name: name!, mampid } : { kind: 'dpmi-iface', name: name! };
  }
  for (const p of FILE_PREFIXES) if (source.startsWith(p)) return { kind: 'file', path: source.slice(p.length) };
  return { kind: 'file', path: source };
}

/**
 * Sources → protocol messages → PhaseEngine, one pass, constant memory: capture files
 * through the Dissector in this thread (several merged by wire timestamp), live
 * sources (and files with `workers`) through the native ring and decode workers.
 */
export async function analyzeSources(sources: string[], opts: AnalyzeOptions): Promise<Summary> {
  if (sources.length === 0) throw new UsageError('no SOURCE given');
  const parsed = sources.map(parseSource);
  const live = parsed.filter((p) => p.kind !== 'file');
  // Asking for AF_PACKET rings and reading a file would silently take another path: say so.
  const file = opts.capture === 'af-packet' ? parsed.find((p) => p.kind === 'file') : undefined;
  if (file !== undefined) {
    throw new UsageError(`--capture af-packet reads live interfaces (iface:NAME, dpmi-iface:NAME) only; ${(file as { path: string }).path} is a capture file: drop --capture`);
  }
  const engine = new PhaseEngine({
    onEvent: opts.onEvent, hosts: opts.hosts ?? {}, labels: opts.labels ?? {},
    ...(opts.downtimeLimitMs !== undefined ? { downtimeLimitMs: opts.downtimeLimitMs } : {}),
  });
  const onMessage = (msg: ProtocolMessage): void => {
    opts.onMessage?.(msg);
    engine.push(msg);
  };
  if (live.length > 0 || opts.workers !== undefined) {
    if (parsed.length > 1) throw new UsageError('the native ring path takes one SOURCE (several files merge only without --workers)');
    if (opts.realtime && live.length === 0) throw new UsageError('--realtime paces files in the pure-TS path: drop --workers');
    const only = parsed[0]!;
    if (only.kind !== 'file') return analyzeRing(only, sources[0]!, engine, onMessage, opts);
    // N workers each read the file: a pipe can be read once only.
    if (only.path === STDIN || !(await stat(only.path).then((s) => s.isFile(), () => true))) {
      throw new UsageError(`${only.path}: pipes and FIFOs are read by the pure-TS path only: drop --workers`);
    }
    if (opts.filter === undefined) return analyzeFileWorkers(only.path, engine, onMessage, opts);
    // --filter needs libpcap, which gives up on a whole file at a record it cannot read
    // (and refuses mixed pcapng sections) where migscope's reader goes on: say so instead
    // of giving another result than the same file without --filter.
    const format = await ringFileFormat(only.path);
    const why = libpcapMisreads(only.path, format);
    if (why !== undefined) {
      throw new UsageError(`${only.path}: libpcap would not read it as migscope's reader does (${why}); --filter needs libpcap: prefilter with tcpdump, or drop --filter`);
    }
    return analyzeRing(only, sources[0]!, engine, onMessage, opts, format);
  }
  if (opts.filter !== undefined) {
    throw new UsageError('--filter applies to live sources and to files read with --workers; or prefilter with tcpdump -r IN -w OUT FILTER');
  }
  const files: CaptureFile[] = [];
  try {
    for (const p of parsed) files.push(await openCapture((p as { path: string }).path));
    const dissector = new Dissector(onMessage, opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {});
    const report = opts.onCaptureStats
      ? () => opts.onCaptureStats!({ packets: dissector.stats.packets, bytes: dissector.stats.bytes, ringDrops: 0, kernelDrops: 0 })
      : undefined;
    // The time (s, ps) of the last packet handed on (the end of the input), as the readers
    // give it: in a typed array, as closure variables each store of a number beyond 2^31
    // boxed it (an allocation per packet).
    const last = new Float64Array(2);
    await mergeByTimestamp(files, (b, i) => {
      last[0] = b.sec[i]!;
      last[1] = b.psec[i]!;
      dissector.recordIn(b, i);
    }, opts, report);
    const lastTs = fromSecPsec(last[0]!, last[1]!);
    for (const f of files) readerAnomalies(f.stats, lastTs, onMessage);
    dissector.finish();
    report?.();
    const summary: Summary = {
      ...engine.end(),
      sources: files.map((f) => {
        const s: SourceSummary = { source: f.path, format: f.format, stats: { ...f.stats } };
        if (f.problem !== undefined) s.problem = f.problem;
        return s;
      }),
      dissector: dissector.stats,
    };
    return summary;
  } finally {
    await Promise.all(files.map((f) => f.close()));
  }
}

const NO_ENDPOINT = Object.freeze({ ip: '', port: 0 });

/** What a file's reader could not read, as anomalies at the end of the input. */
function readerAnomalies(s: ReaderStats, ts: Picos, emit: (msg: ProtocolMessage) => void): void {
  const at = (def: AnomalyDef, count: number, fields?: AnomalyFields): void => {
    if (count > 0) emit(anomalyMessage(def, count, ts, ts, -1, NO_ENDPOINT, NO_ENDPOINT, fields));
  };
  at(CaptureAnomaly.MALFORMED_RECORDS, s.malformedRecords, { skippedBytes: s.skippedBytes ?? 0 });
  at(CaptureAnomaly.TRUNCATED_FILE, s.truncated ? 1 : 0);
  at(CaptureAnomaly.DPMI_FRAME_LOSS, s.lostFrames);
  at(CaptureAnomaly.TIME_OUT_OF_RANGE, s.timesOutOfRange ?? 0);
}

interface Cursor {
  it: AsyncIterator<PacketBatch>;
  batch: PacketBatch;
  i: number;
}

async function advance(c: Cursor): Promise<boolean> {
  for (;;) {
    const r = await c.it.next();
    if (r.done) return false;
    if (r.value.length > 0) {
      c.batch = r.value;
      c.i = 0;
      return true;
    }
  }
}

/** Packet `i` of a batch, handed on in place (the sink makes what it keeps). */
type BatchSink = (batch: PacketBatch, i: number) => void;

/** K-way merge of the files' packets by wire timestamp (stable: file order on ties). */
async function mergeByTimestamp(files: CaptureFile[], sink: BatchSink, opts: AnalyzeOptions, onBatch?: () => void): Promise<void> {
  const cursors: Cursor[] = [];
  for (const f of files) {
    const it = f.packetBatches()[Symbol.asyncIterator]();
    const c: Cursor = { it, batch: undefined as unknown as PacketBatch, i: 0 };
    if (await advance(c)) cursors.push(c);
  }
  const pacer = opts.realtime ? new Pacer(opts.speed ?? 1) : undefined;
  const signal = opts.signal;
  while (cursors.length > 0) {
    if (signal?.aborted) return;
    let best = 0;
    for (let k = 1; k < cursors.length; k++) {
      const ck = cursors[k]!, cb = cursors[best]!;
      if (ck.batch.before(ck.i, cb.batch, cb.i)) best = k;
    }
    const c = cursors[best]!;
    // One file, or a run of packets that stays ahead of the others: no re-scan per packet.
    const next = cursors.length === 1 ? undefined : secondSmallest(cursors, best);
    const b = c.batch;
    if (pacer === undefined && next === undefined) {
      // The common case, one file at full speed: a tight loop over the batch (an abort is
      // seen between batches, a mapped window of a few thousand packets).
      for (let i = c.i; i < b.length; i++) sink(b, i);
      c.i = b.length;
    }
    while (c.i < b.length) {
      if (next !== undefined && next.batch.before(next.i, b, c.i)) break;
      if (pacer) await pacer.wait(b.ts(c.i));
      if (signal?.aborted) return;
      sink(b, c.i);
      c.i++;
    }
    onBatch?.();
    if (c.i >= b.length && !(await advance(c))) cursors.splice(best, 1);
    const slow = opts.backpressure?.();
    if (slow) await slow;
  }
}

/** The cursor (other than `except`) whose current packet is earliest. */
function secondSmallest(cursors: Cursor[], except: number): Cursor {
  let min: Cursor | undefined;
  for (let k = 0; k < cursors.length; k++) {
    if (k === except) continue;
    const c = cursors[k]!;
    if (min === undefined || c.batch.before(c.i, min.batch, min.i)) min = c;
  }
  return min!;
}

/** Sleeps so that packets are handed on at their wire time (divided by `speed`). */
class Pacer {
  private first?: Picos;
  private readonly wall0 = performance.now();
  constructor(private readonly speed: number) {}

  async wait(ts: Picos): Promise<void> {
    this.first ??= ts;
    const dueMs = Number((ts - this.first) / 1_000_000n) / 1e3 / this.speed;
    const ahead = dueMs - (performance.now() - this.wall0);
    if (ahead > 4) await sleep(ahead);
  }
}

/**
 * A capture file split by flows over `opts.workers` worker threads, each reading the
 * file itself (./ring/file-run.ts). With --filter a file goes through libpcap instead.
 */
async function analyzeFileWorkers(path: string, engine: PhaseEngine, onMessage: (msg: ProtocolMessage) => void,
  opts: AnalyzeOptions): Promise<Summary> {
  const { runFileWorkers } = await import('./ring/file-run.js');
  // Opened here first so that a missing or unknown file fails in one line, as on the pure-TS path.
  await (await openCapture(path)).close();
  // Times before the epoch are negative: the latest is the largest of those seen, not of 0n.
  let lastTs: Picos | undefined;
  const run: Parameters<typeof runFileWorkers>[0] = {
    path, workers: opts.workers ?? 2,
    onMessage: (m) => { if (lastTs === undefined || m.tsEnd > lastTs) lastTs = m.tsEnd; onMessage(m); },
  };
  if (opts.signal) run.signal = opts.signal;
  if (opts.backpressure) run.backpressure = opts.backpressure;
  if (opts.maxMemory !== undefined) run.maxMemory = opts.maxMemory;
  const r = await runFileWorkers(run);
  readerAnomalies(r.reader, lastTs ?? 0n, onMessage);
  const s: SourceSummary = { source: path, format: r.format, stats: { ...r.reader } };
  if (r.problem !== undefined) s.problem = r.problem;
  return { ...engine.end(), sources: [s] };
}

/** One source through the native capture → rings → decode workers path. */
async function analyzeRing(src: ParsedSource, text: string, engine: PhaseEngine,
  onMessage: (msg: ProtocolMessage) => void, opts: AnalyzeOptions, fileFormat?: CaptureFormat): Promise<Summary> {
  const { runRingPipeline } = await import('./ring/run.js');
  const filter = opts.filter !== undefined ? { filter: opts.filter } : {};
  let source: Parameters<typeof runRingPipeline>[0]['source'];
  let format: SourceSummary['format'] = 'live';
  if (src.kind === 'file') {
    format = fileFormat ?? await ringFileFormat(src.path);
    source = { kind: 'file', path: src.path, ...filter };
  } else if (src.kind === 'iface') {
    source = { kind: 'iface', name: src.name, ...filter };
  } else {
    source = src.mampid !== undefined ? { kind: 'dpmi-iface', name: src.name, mampid: src.mampid } : { kind: 'dpmi-iface', name: src.name };
  }
  const run: Parameters<typeof runRingPipeline>[0] = { source, workers: opts.workers ?? 2, onMessage, handleSigint: true };
  if (opts.maxMemory !== undefined) run.maxMemory = opts.maxMemory;
  if (opts.capture !== undefined) run.capture = opts.capture;
  if (opts.signal) run.signal = opts.signal;
  if (opts.backpressure) run.backpressure = opts.backpressure;
  if (opts.onCaptureStats) {
    const report = opts.onCaptureStats;
    run.statsIntervalMs = 500;
    run.onStats = (s) => report({
      packets: s.packets, bytes: s.bytes, ringDrops: s.rings.reduce((a, r) => a + r.dropped, 0), kernelDrops: s.kernelDrops + s.interfaceDrops,
    });
  }
  const { stats } = await runRingPipeline(run);
  const s: SourceSummary = { source: text, format, ring: {
    packets: stats.packets, ringDrops: stats.rings.reduce((a, r) => a + r.dropped, 0), kernelDrops: stats.kernelDrops,
    lostFrames: stats.dpmiLostFrames, path: stats.capturePath,
  } };
  return { ...engine.end(), sources: [s] };
}

/** libpcap (--filter on a file) reads pcap and pcapng only: DPMI capture files and gzip need the TS reader. */
async function ringFileFormat(path: string): Promise<CaptureFormat> {
  const f = await openCapture(path);
  try {
    if (f.gzip || (f.format !== 'pcap' && f.format !== 'pcapng')) {
      throw new UsageError(`${path}: ${f.gzip ? 'gzip-compressed' : f.format} files are not read by libpcap, so --filter cannot apply: drop --filter`);
    }
    return f.format;
  } finally {
    await f.close();
  }
}
