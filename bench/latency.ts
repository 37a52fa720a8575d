import { Dissector } from '../src/dissect/dissector.js';
import { openCapture } from '../src/ingest/file-source.js';
import { PhaseEngine } from '../src/phases/engine.js';
import type { PhaseEvent } from '../src/phases/events.js';

export interface LatencyResult {
  events: number;
  /** Marker packet handed to the dissector → its phase event emitted (µs). */
  processing: { p50: number; p99: number; max: number };
  /**
   * The marker's wire time (the event's own ts) on the replay's clock → event emitted
   * (µs). This is what a user watching live sees: it adds the time the engine needs to
   * be sure (e.g. a phase that ends when a later packet shows it) and any lag of the
   * pipeline behind the wire.
   */
  schedule: { p50: number; p99: number; max: number };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Replays a capture at wire speed (× speed) through the same Dissector → PhaseEngine
 * the pipeline uses, timing each phase event against the packet that triggered it.
 * Pacing sleeps while more than 2 ms ahead and spins the rest, so the schedule figure
 * measures the pipeline, not the timer wheel.
 */
export async function measureEventLatency(path: string, speed = 1): Promise<LatencyResult> {
  const processing: number[] = [];
  const schedule: number[] = [];
  let fedAt = 0n;
  let t0: bigint | undefined;
  let wall0 = 0n;
  // ps of wire time → ns on the replay's wall clock, scaled by the replay speed.
  const due = (ts: bigint): bigint => wall0 + BigInt(Math.round(Number((ts - t0!) / 1000n) / speed));
  const onEvent = (ev: PhaseEvent): void => {
    if (ev.type !== 'phase-started' && ev.type !== 'phase-ended' && ev.type !== 'switchover') return;
    const now = process.hrtime.bigint();
    processing.push(Number(now - fedAt) / 1e3);
    schedule.push(Number(now - due(ev.ts)) / 1e3);
  };
  const engine = new PhaseEngine({ onEvent, hosts: {}, labels: {} });
  const dissector = new Dissector((m) => engine.push(m));
  const file = await openCapture(path);
  try {
    for await (const batch of file.batches()) {
      for (const pkt of batch) {
        if (t0 === undefined) { t0 = pkt.ts; wall0 = process.hrtime.bigint(); }
        const dueAt = due(pkt.ts);
        for (let spins = 0; ; spins++) {
          const ahead = dueAt - process.hrtime.bigint();
          if (ahead <= 0n || spins > 50_000_000) break;
          if (ahead > 2_000_000n) await new Promise((r) => setTimeout(r, Number(ahead / 1_000_000n) - 1));
        }
        fedAt = process.hrtime.bigint();
        dissector.packet(pkt);
      }
    }
    dissector.finish();
    engine.end();
  } finally {
    await file.close();
  }
  const p = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1] ?? Number.NaN };
  };
  return { events: processing.length, processing: p(processing), schedule: p(schedule) };
}
