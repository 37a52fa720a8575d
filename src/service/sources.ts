import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsAggregatorOptions } from '../agent/nats/aggregator.js';
import type { PhaseEvent } from '../phases/events.js';
import { analyzeSources, parseSource, type AnalyzeOptions } from '../pipeline/analyze.js';
import { ItemQueue, type ServeItem } from './items.js';

export type PipelineOptions = Omit<AnalyzeOptions, 'onEvent' | 'onCaptureStats' | 'signal'>;

/** Prefixes migration ids so that several runs (sources, demo rounds) never collide. */
function renamed(ev: PhaseEvent, prefix: string): PhaseEvent {
  return prefix === '' || ev.migration === '' ? ev : { ...ev, migration: `${prefix}${ev.migration}` };
}

/** One analysis run as items: its events and its capture counters under `name`. */
async function runInto(queue: ItemQueue, sources: string[], name: string, prefix: string, opts: PipelineOptions, signal: AbortSignal): Promise<void> {
  const run: AnalyzeOptions = {
    ...opts, signal,
    onEvent: (event) => queue.push({ kind: 'event', event: renamed(event, prefix) }),
    onCaptureStats: (s) => queue.push({ kind: 'capture', capture: { source: name, ...s } }),
  };
  await analyzeSources(sources, run);
}

/**
 * SOURCEs through the analysis pipeline, as an async iterable of items. Files are
 * merged by timestamp in one run; each live source runs on its own (own ring, own
 * engine), its migration ids prefixed with its position. The iterable ends when every
 * run ended (files read, or `signal` aborted); a run's error ends it with that error.
 */
export function pipelineItems(sources: string[], opts: PipelineOptions, signal: AbortSignal): AsyncIterable<ServeItem> {
  const queue = new ItemQueue();
  const files = sources.filter((s) => parseSource(s).kind === 'file');
  const live = sources.filter((s) => parseSource(s).kind !== 'file');
  const runs: { sources: string[]; name: string }[] = [];
  if (files.length > 0) runs.push({ sources: files, name: files.length === 1 ? files[0]! : 'files' });
  for (const s of live) runs.push({ sources: [s], name: s });
  let failure: unknown;
  void Promise.all(runs.map((r, i) => runInto(queue, r.sources, r.name, runs.length > 1 ? `s${i + 1}.` : '', opts, signal)
    .catch((err: unknown) => { failure ??= err; })))
    .then(() => queue.end());
  return {
    async *[Symbol.asyncIterator]() {
      yield* queue;
      if (failure !== undefined) throw failure;
    },
  };
}

export interface DemoOptions {
  speed: number;
  /** Rounds to play (default: until aborted). */
  rounds?: number;
  seed?: number;
}

/**
 * `serve --demo`: generated migrations replayed in real time, one after the other,
 * alternating OpenStack and plain KVM and varying the guest load; ids `d<round>.m1`.
 */
export function demoItems(opts: DemoOptions, signal: AbortSignal): AsyncIterable<ServeItem> {
  const queue = new ItemQueue();
  void (async () => {
    const { writeTrace } = await import('../generate/write-trace.js');
    const dir = await mkdtemp(join(tmpdir(), 'migscope-serve-demo-'));
    try {
      for (let round = 1; !signal.aborted && (opts.rounds === undefined || round <= opts.rounds); round++) {
        const file = join(dir, `round-${round % 2}.pcap`);
        const scenario = round % 2 === 1 ? 'openstack' : 'kvm';
        writeTrace(file, {
          scenario, flavor: 1 + (round % 2), load: (round * 25) % 125, linkGbps: 1, runs: 1, overlap: false,
          seed: (opts.seed ?? 1) + round, payloadScale: 0.02,
          // Wire time = now, so rounds follow each other on one clock.
          startTime: BigInt(Date.now()) * 1_000_000_000n,
        }, 'pcap');
        await runInto(queue, [file], 'demo', `d${round}.`, { realtime: true, speed: opts.speed }, signal);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
      queue.end();
    }
  })().catch(() => queue.end());
  return queue;
}

export type NatsItemOptions = Omit<NatsAggregatorOptions, 'onMessage' | 'onEvent' | 'backpressure' | 'idleTimeout' | 'signal'>;

/**
 * `serve --subscribe URL`: the NATS aggregator's events as items (docs/agents.md),
 * phase events for the board and metrics, clock offsets and MP status for the
 * measurement points. Runs until `signal` aborts; a slow service slows the reading
 * from NATS (natsAggregation's high-water mark) instead of queueing.
 */
export async function* natsItems(opts: NatsItemOptions, signal: AbortSignal): AsyncIterable<ServeItem> {
  const { natsAggregation } = await import('../agent/nats/messages.js');
  for await (const item of natsAggregation({ ...opts, signal }, 4096, false)) {
    if (item.kind !== 'event') continue;
    const ev = item.value;
    yield ev.type === 'clock-offset' || ev.type === 'mp-status' ? { kind: 'mp', event: ev } : { kind: 'event', event: ev };
  }
}
