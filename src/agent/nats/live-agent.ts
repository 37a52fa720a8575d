import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { UsageError } from '../../core/errors.js';
import type { Picos } from '../../core/time.js';
import { analyzeSources, type AnalyzeOptions, type CaptureCounters } from '../../pipeline/analyze.js';
import { LiveMeasurementPoint } from '../live-point.js';
import type { MpRecord } from '../records.js';
import { BATCH, lastStoredSeq, MpOutbox } from './outbox.js';
import { JetStreamPublisher, type PublisherCounts, type PublisherOptions } from './publisher.js';
import { connectNats, ensureStreams } from './streams.js';

/** One live source and the MP it is. */
export interface LivePoint {
  mp: string;
  /** `iface:NAME` or `dpmi-iface:NAME[/MAMPID]`, as analyze takes it. */
  source: string;
}

export interface LiveAgentOptions extends PublisherOptions, Pick<AnalyzeOptions, 'filter' | 'maxMemory'> {
  url: string;
  points: readonly LivePoint[];
  /** Decode workers per source (default 1). */
  workers?: number;
  /** How far an idle MP's watermark trails its clock (default 1 s, src/agent/live-point.ts). */
  lag?: Picos;
  /** Heartbeat period, ms (default 250): an idle MP holds the merge back by --lag plus this. */
  heartbeatMs?: number;
  /** After the sources stopped, how long to wait for JetStream's acks, ms (default 10 000). */
  drainMs?: number;
  /** Stops the capture: every MP then sends its end record. */
  signal?: AbortSignal;
  onRecord?: (r: MpRecord) => void;
}

export interface LivePointSummary extends LivePoint {
  /** Capture counters of the source (native ring). */
  capture: CaptureCounters;
  messages: number;
  /** Messages decoded later than a watermark already published: merged at that watermark. */
  raised: number;
  records: number;
  firstSeq: number;
  lastSeq: number;
}

export interface LiveAgentSummary {
  points: LivePointSummary[];
  publisher: PublisherCounts;
  /** Publications still unacked when the drain time ran out (NATS unreachable at the end). */
  unacked: number;
}

/**
 * `migscope agent iface:X|dpmi-iface:X/MAMPID… --publish URL`: live measurement points.
 * Each source runs through the same capture pipeline as `analyze iface:` (the native
 * ring and decode workers, `analyzeSources`), its protocol messages become the MP's
 * records (LiveMeasurementPoint), and a timer sends each MP's heartbeat, so an idle MP's
 * watermark advances with the wall clock. The capture runs until `signal`; then every MP
 * sends its end record (the aggregator's end of stream) and the agent waits (bounded)
 * for JetStream's acks.
 */
export async function runLiveAgent(opts: LiveAgentOptions): Promise<LiveAgentSummary> {
  if (opts.points.length === 0) throw new UsageError('no SOURCE given');
  const names = new Set(opts.points.map((p) => p.mp));
  if (names.size !== opts.points.length) throw new UsageError('two sources with one MP name: name each (--mp KEY=NAME,…)');
  for (const p of opts.points) if (p.mp.length === 0 || p.mp.length > 200) throw new UsageError(`MP name '${p.mp}': 1 to 200 characters`);
  const nc = await connectNats(opts.url, `migscope-agent-${[...names].join(',')}`.slice(0, 200), { signal: opts.signal });
  try {
    const jsm = await ensureStreams(nc);
    const publisher = new JetStreamPublisher(jetstream(nc), opts);
    const points = await Promise.all(opts.points.map(async (p) => {
      const stored = await lastStoredSeq(jsm, p.mp);
      const outbox = new MpOutbox(p.mp, publisher, 0, opts.onRecord);
      const lmp = new LiveMeasurementPoint(p.mp, outbox.push, { firstSeq: stored, ...(opts.lag !== undefined ? { lag: opts.lag } : {}) });
      const capture: CaptureCounters = { packets: 0, bytes: 0, ringDrops: 0, kernelDrops: 0 };
      return { ...p, stored, outbox, lmp, capture };
    }));
    // One publishing pass at a time, in order, so each MP's batches leave in its order.
    let chain = Promise.resolve();
    const publishAll = (): Promise<void> => (chain = chain.then(async () => { for (const p of points) await p.outbox.publish(); }));
    const pending = (): number => points.reduce((n, p) => n + p.outbox.pending.length, 0);
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    const heartbeats = setInterval(() => {
      for (const p of points) p.lmp.heartbeat();
      void publishAll();
    }, opts.heartbeatMs ?? 250);
    let failure: unknown;
    try {
      await Promise.all(points.map((p) => analyzeSources([p.source], {
        onEvent: () => undefined,
        onMessage: (m) => {
          p.lmp.message(m);
          if (p.outbox.pending.length >= BATCH) void publishAll();
        },
        // NATS slower than the capture: the decode workers stop taking packets, the
        // rings fill and overflow is counted as ring drops, memory stays bounded.
        backpressure: () => (pending() > 64 * BATCH ? publishAll() : undefined),
        onCaptureStats: (s) => { p.capture = s; },
        signal, workers: opts.workers ?? 1,
        ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
        ...(opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {}),
      }).catch((err: unknown) => {
        // One source failing (interface gone, no permission) stops the others.
        failure ??= err;
        stop.abort();
      })));
    } finally {
      clearInterval(heartbeats);
    }
    if (failure !== undefined) throw failure;
    for (const p of points) p.lmp.finish();
    await publishAll();
    // Unref'd: once everything is acked, the process exits at once, not when the bound ends.
    await Promise.race([publisher.flush(), sleep(opts.drainMs ?? 10_000, undefined, { ref: false })]);
    const unacked = publisher.buffered;
    publisher.close();
    return {
      points: points.map((p) => ({
        mp: p.mp, source: p.source, capture: p.capture, messages: p.lmp.counts.messages, raised: p.lmp.counts.raised,
        records: p.outbox.records, firstSeq: p.stored + 1, lastSeq: p.lmp.lastSeq,
      })),
      publisher: { ...publisher.counts }, unacked,
    };
  } finally {
    await nc.close();
  }
}

/**
 * SOURCEs and `--mp` → one MP per source. `dpmi-iface:X/A,B` is one source per MAMPID.
 * One source: the MP is NAME. Several: `NAME/<key>`, or `KEY=NAME,…` names each, where
 * the key is the MAMPID (or the interface of an `iface:` source).
 */
export function livePoints(sources: readonly string[], mp: string): LivePoint[] {
  const expanded: { source: string; key: string }[] = [];
  for (const s of sources) {
    const dpmi = /^dpmi-iface:([^/]+)\/(.+)$/.exec(s);
    if (dpmi) for (const id of dpmi[2]!.split(',').filter((x) => x !== '')) expanded.push({ source: `dpmi-iface:${dpmi[1]}/${id}`, key: id });
    else if (s.startsWith('iface:') || s.startsWith('dpmi-iface:')) expanded.push({ source: s, key: s.slice(s.indexOf(':') + 1) });
    else throw new UsageError(`${s}: live sources (iface:, dpmi-iface:) and capture files do not mix in one agent`);
  }
  if (mp.includes('=')) {
    const names = new Map<string, string>();
    for (const pair of mp.split(',')) {
      const i = pair.indexOf('=');
      if (i <= 0 || i === pair.length - 1) throw new UsageError(`--mp KEY=NAME,…: '${pair}' is not KEY=NAME`);
      names.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return expanded.map((e) => {
      const name = names.get(e.key);
      if (name === undefined) throw new UsageError(`--mp names no MP for '${e.key}' (${e.source})`);
      return { mp: name, source: e.source };
    });
  }
  return expanded.map((e) => ({ mp: expanded.length === 1 ? mp : `${mp}/${e.key}`, source: e.source }));
}
