/**
 * Live event latency: the trace replayed onto the veth at its own wire timing, captured
 * by migscope's ring path, messages into the phase engine on the main thread. In a live
 * capture a packet's timestamp is the kernel's arrival time (CLOCK_REALTIME), so
 * "event emitted − event ts" is what a person watching sees: the capture's block timeout,
 * the ring, the workers' batching, the merge, and the engine's own wait for certainty.
 */
import { readFileSync } from 'node:fs';
import { startRingPipeline } from '../src/pipeline/ring/run.js';
import type { MessageTiming } from '../src/pipeline/ring/merge.js';
import { wallClockUs } from '../src/core/time.js';
import { PhaseEngine, type HostRoles } from '../src/phases/engine.js';
import type { PhaseEvent } from '../src/phases/events.js';
import type { VethPair } from '../test/live/netns.js';
import { tcpreplay, type TraceTotals } from './live-replay.js';

export interface Quantiles { p50: number; p99: number; max: number }

export interface LiveLatency {
  events: number;
  /** Every phase event (µs): includes events the engine can only emit once a later packet shows them. */
  allUs: Quantiles;
  /** migration-started, phase-started and progress events (µs): mostly stamped with the packet that triggers them. */
  startedUs: Quantiles;
  /**
   * Every event from the wire time of the packet that let the engine emit it (the
   * message being pushed when it came): the pipeline's own delay, without the time an
   * event stamped earlier waited for that packet by nature (a migration's first phases
   * are known once the migration is recognised).
   */
  triggerUs: Quantiles;
  /** The first event of the run (the first migration after start): trigger packet → event (µs), and its stages. */
  firstTriggerUs: number;
  firstStagesUs: Record<LatencyStage, number>;
  /** Where the trigger → event time goes (µs per stage, over the same events as triggerUs). */
  stages: Record<LatencyStage, Quantiles>;
  /** Of the trigger events later than 1 ms: how many, and the mean time of each stage in them (µs). */
  slow: { events: number; meanUs: Record<LatencyStage, number> };
  packets: number;
  ringDrops: number;
  kernelDrops: number;
}

/**
 * The stages of a trigger event's latency: `handOver` the packet's kernel time stamp to
 * its worker reading it (the kernel's block retire timer, the worker's wake-up, blocks
 * queued before it); `decode` the rest of its block decoded until the batch is posted;
 * `hop` postMessage to the main thread (its event loop busy elsewhere included); `merge`
 * waiting for the other workers' watermarks; `engine` the phase engine and output.
 */
export const LATENCY_STAGES = ['handOver', 'decode', 'hop', 'merge', 'engine'] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

/** Kinds usually emitted on the packet they are stamped with (not a later verdict). */
const STARTED = new Set<PhaseEvent['type']>(['migration-started', 'phase-started', 'progress']);

function quantiles(values: number[]): Quantiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** Wall clock as epoch picoseconds (µs resolution), comparable with live capture timestamps. */
function nowPs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1_000_000n;
}

/**
 * The hosts from the generator's truth file, as `--hosts` would give them: with roles
 * known, events leave live from the first SYN; inferred roles make the engine emit the
 * start of a migration only once it is recognised, seconds after its first packet.
 */
function truthHosts(traceFile: string): HostRoles {
  const truth = JSON.parse(readFileSync(`${traceFile}.truth.json`, 'utf8')) as { migrations?: HostRoles[] };
  const m = truth.migrations?.[0];
  if (!m) return {};
  const hosts: HostRoles = {};
  for (const k of ['source', 'destination', 'controller'] as const) if (typeof m[k] === 'string') hosts[k] = m[k];
  return hosts;
}

export async function measureLiveLatency(pair: VethPair, trace: TraceTotals, workers: number,
  capture: 'af-packet' | 'pcap' = 'af-packet'): Promise<LiveLatency> {
  const all: number[] = [];
  const started: number[] = [];
  const trigger: number[] = [];
  const stageUs: Record<LatencyStage, number[]> = { handOver: [], decode: [], hop: [], merge: [], engine: [] };
  /** Wire time of the message being pushed: the packet that lets the engine emit. */
  let pushedTs = 0n;
  let pushedTiming: MessageTiming | undefined;
  const engine = new PhaseEngine({
    hosts: truthHosts(trace.file),
    onEvent: (e) => {
      const now = nowPs();
      const us = Number(now - e.ts) / 1e6;
      all.push(us);
      if (STARTED.has(e.type)) started.push(us);
      if (pushedTs > 0n && pushedTiming !== undefined) {
        const t = pushedTiming;
        const eventUs = wallClockUs();
        trigger.push(Number(now - pushedTs) / 1e6);
        // µs since the epoch as an exact integer (ps as a Number would round to 100 µs).
        const wireUs = Number(pushedTs / 1_000_000n) + Number(pushedTs % 1_000_000n) / 1e6;
        stageUs.handOver.push(t.readUs - wireUs);
        stageUs.decode.push(t.postedUs - t.readUs);
        stageUs.hop.push(t.receivedUs - t.postedUs);
        stageUs.merge.push(t.releasedUs - t.receivedUs);
        stageUs.engine.push(eventUs - t.releasedUs);
      }
    },
  });
  const run = startRingPipeline({
    source: { kind: 'iface', name: pair.rxIf, netns: pair.rxNs }, workers, capture,
    onTiming: (t) => { pushedTiming = t; },
    onMessage: (m) => { pushedTs = m.tsEnd; engine.push(m); },
  });
  const done = run.done;
  done.catch(() => undefined);
  try {
    await run.ready;
    await new Promise((r) => setTimeout(r, 500));
    // No --pps/--topspeed: tcpreplay keeps the trace's own inter-packet gaps.
    await tcpreplay(pair.txNs, pair.txIf, trace.file, { loops: 1, wireSpeed: true }, 120_000);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    run.stop();
  }
  const { stats } = await done;
  engine.end();
  const slowAt = trigger.flatMap((us, i) => (us > 1000 ? [i] : []));
  const mean = (k: LatencyStage): number => slowAt.reduce((a, i) => a + stageUs[k][i]!, 0) / Math.max(1, slowAt.length);
  return {
    events: all.length, allUs: quantiles(all), startedUs: quantiles(started), triggerUs: quantiles(trigger),
    firstTriggerUs: trigger[0] ?? Number.NaN,
    firstStagesUs: Object.fromEntries(LATENCY_STAGES.map((k) => [k, stageUs[k][0] ?? Number.NaN])) as Record<LatencyStage, number>,
    stages: Object.fromEntries(LATENCY_STAGES.map((k) => [k, quantiles(stageUs[k])])) as Record<LatencyStage, Quantiles>,
    slow: { events: slowAt.length, meanUs: Object.fromEntries(LATENCY_STAGES.map((k) => [k, mean(k)])) as Record<LatencyStage, number> },
    packets: stats.packets,
    ringDrops: stats.rings.reduce((a, r) => a + r.dropped, 0), kernelDrops: stats.kernelDrops + stats.interfaceDrops,
  };
}
