/**
 * Live event latency: the trace replayed onto the veth at its own wire timing, captured
 * by migscope's ring path, messages into the phase engine on the main thread. In a live
 * capture a packet's timestamp is the kernel's arrival time (CLOCK_REALTIME), so
 * "event emitted − event ts" is what a person watching sees: the capture's block timeout,
 * the ring, the workers' batching, the merge, and the engine's own wait for certainty.
 */
import { readFileSync } from 'node:fs';
import { startRingPipeline } from '../src/pipeline/ring/run.js';
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
  packets: number;
  ringDrops: number;
  kernelDrops: number;
}

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
  /** Wire time of the message being pushed: the packet that lets the engine emit. */
  let pushedTs = 0n;
  const engine = new PhaseEngine({
    hosts: truthHosts(trace.file),
    onEvent: (e) => {
      const now = nowPs();
      const us = Number(now - e.ts) / 1e6;
      all.push(us);
      if (STARTED.has(e.type)) started.push(us);
      if (pushedTs > 0n) trigger.push(Number(now - pushedTs) / 1e6);
    },
  });
  const run = startRingPipeline({
    source: { kind: 'iface', name: pair.rxIf, netns: pair.rxNs }, workers, capture,
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
  return {
    events: all.length, allUs: quantiles(all), startedUs: quantiles(started), triggerUs: quantiles(trigger), packets: stats.packets,
    ringDrops: stats.rings.reduce((a, r) => a + r.dropped, 0), kernelDrops: stats.kernelDrops + stats.interfaceDrops,
  };
}
