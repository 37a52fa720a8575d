/**
 * The alert logic of the phase engine against generated traces with known truth:
 * pass sizes/durations and the convergence verdict (the generator's stream model makes
 * every pass `dirtyRatio` times the previous one, in bytes and in time), the projected
 * switch-over time, and the downtime split (switch-over → EOF → RARP → first echo
 * reply, each a marker packet the generator records).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { toSeconds } from '../../src/core/time.js';
import type { Convergence, Downtime, MigrationEnded, PhaseEvent, Switchover } from '../../src/phases/events.js';
import { analyzeSources } from '../../src/pipeline/analyze.js';
import { generateFile, tempDir } from './generated.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function analyse(file: string, downtimeLimitMs?: number): Promise<PhaseEvent[]> {
  const events: PhaseEvent[] = [];
  await analyzeSources([file], { onEvent: (e) => events.push(e), ...(downtimeLimitMs !== undefined ? { downtimeLimitMs } : {}) });
  return events;
}
const of = <T extends PhaseEvent['type']>(evs: PhaseEvent[], type: T, id?: string) =>
  evs.filter((e): e is Extract<PhaseEvent, { type: T }> => e.type === type && (id === undefined || e.migration === id));

/** One page record plus a section header: how far a pass boundary can sit from the truth's. */
const RECORD_SLACK = 4096 + 64;

describe('convergence: converging pre-copy (generated, known dirty ratio)', () => {
  for (const [flavor, load] of [[2, 50], [3, 100], [4, 75]] as const) {
    it(`flavor ${flavor}, load ${load}: pass sizes, ratio, verdicts and ETA`, async () => {
      const { file, truth } = generateFile(tmp.dir, `conv-${flavor}-${load}.pcap`, { scenario: 'kvm', flavor, load, runs: 1, seed: 40 + flavor, payloadScale: 0.02 });
      const t = truth.migrations[0]!;
      expect(t.dirtyRatio).toBeGreaterThan(0);
      const first = await analyse(file);
      const conv = of(first, 'convergence');
      // One event per pre-copy pass; the last one is the switch-over's.
      expect(conv.map((c) => c.iteration)).toEqual(t.passBytes.slice(0, -1).map((_, i) => i + 1));
      conv.forEach((c, i) => expect(Math.abs(c.passBytes - t.passBytes[i]!), `pass ${i + 1} size`).toBeLessThanOrEqual(RECORD_SLACK));
      expect(conv[0]!.verdict).toBeUndefined();
      for (const c of conv.slice(1)) expect(c.ratio!, `pass ${c.iteration} ratio`).toBeCloseTo(t.dirtyRatio!, 2);
      expect(conv[conv.length - 1]!.verdict).toBe('converged');
      const sw = of(first, 'switchover')[0]!;
      expect(conv[conv.length - 1]!.ts).toBe(sw.ts);
      expect(sw.ts).toBe(t.pausedAt);

      // The ETA, with the stop threshold where this trace's model put it: between the
      // stop-and-copy pass and the last pre-copy pass (geometric mean), as a time limit.
      const n = t.passBytes.length;
      if (n < 4) return; // needs a pass-2 estimate before the last pass
      const wire = conv[1]!.wireRate;
      const X = Math.sqrt(t.passBytes[n - 1]! * t.passBytes[n - 2]!);
      const events = await analyse(file, (X / wire) * 1000);
      const estimates = of(events, 'convergence').filter((c) => c.verdict === 'converging');
      expect(estimates.length).toBe(n - 3);
      for (const c of estimates) {
        const actual = toSeconds(t.pausedAt! - c.ts);
        expect(c.passesLeft, `after pass ${c.iteration}`).toBe(n - 1 - c.iteration);
        expect(Math.abs(toSeconds(c.eta!) - actual), `ETA after pass ${c.iteration}`).toBeLessThanOrEqual(0.02 * actual + 0.001);
      }
    });
  }
});

describe('convergence: a guest dirtying as fast as the wire (dirtyRatio 1)', () => {
  // The model runs its capped 29 equal pre-copy passes, then switches over anyway (as a
  // forced switch-over would); every estimate in between must say it never converges.
  it('says will-not-converge from pass 2 on, long before the switch-over', async () => {
    const { file, truth } = generateFile(tmp.dir, 'never.pcap', { scenario: 'kvm', flavor: 1, load: 100, runs: 1, seed: 5, payloadScale: 0.02, dirtyRatio: 1 });
    const t = truth.migrations[0]!;
    expect(t.passBytes.length).toBe(30);
    // Its passes last ~70 ms: a 300 ms limit would let QEMU stop after any of them (and
    // the estimate says so); with a 5 ms limit the remainder never fits.
    expect(of(await analyse(file), 'convergence').slice(1, -1).every((c) => c.verdict === 'converging' && c.passesLeft === 1)).toBe(true);
    const events = await analyse(file, 5);
    const conv = of(events, 'convergence');
    expect(conv).toHaveLength(29);
    expect(conv[conv.length - 1]!.verdict).toBe('converged');
    for (const c of conv.slice(1, -1)) {
      expect(c.verdict, `pass ${c.iteration}`).toBe('will-not-converge');
      expect(c.ratio!).toBeCloseTo(1, 2);
      expect(c.eta).toBeUndefined();
    }
    expect(conv[1]!.ts).toBeLessThan(t.pausedAt!);
    expect(conv[1]!.dirtyRate! / conv[1]!.wireRate).toBeCloseTo(1, 2);
  });
});

describe('downtime split (generated: pause, resume, network re-convergence)', () => {
  for (const scenario of ['kvm', 'openstack'] as const) {
    it(`${scenario}: each part between its marker packets, bounds around the truth`, async () => {
      const { file, truth } = generateFile(tmp.dir, `split-${scenario}.pcap`, { scenario, flavor: 2, load: 25, runs: 2, seed: 77, payloadScale: 0.02 });
      const events = await analyse(file);
      const downs = of(events, 'downtime');
      expect(downs).toHaveLength(2);
      truth.migrations.forEach((t, i) => {
        const id = `m${i + 1}`;
        const d = downs.find((x) => x.migration === id) as Downtime;
        const mk = t.markers;
        expect(d.duration).toBe(t.downtime);
        expect(d.pause).toEqual({ start: mk['stopcopy'], end: mk['stream-eof'], min: mk['stream-eof']! - mk['stopcopy']!, max: d.pause!.max });
        expect(d.pause!.max).toBeGreaterThanOrEqual(d.pause!.min);
        expect(d.resume).toEqual({ start: mk['stream-eof'], end: mk['rarp'], min: mk['rarp']! - mk['stream-eof']!, max: mk['rarp']! - mk['stream-eof']! });
        const net = mk['resume-reply']! - mk['rarp']!;
        expect(d.announce).toBe('rarp');
        expect(d.reconvergence).toEqual({ start: mk['rarp'], end: mk['resume-reply'], min: net > 1_000_000_000n ? net - 1_000_000_000n : 0n, max: net });
        // The parts lie inside the echo gap and do not overlap.
        expect(d.pause!.start).toBeGreaterThan(d.ts - d.duration);
        expect(d.pause!.end).toBeLessThanOrEqual(d.resume!.start);
        expect(d.reconvergence!.end).toBe(d.ts);
        const ended = of(events, 'migration-ended', id)[0] as MigrationEnded;
        expect(ended.stream!.pause).toEqual(d.pause);
      });
      const sw = of(events, 'switchover') as Switchover[];
      expect(sw.map((s) => s.ts)).toEqual(truth.migrations.map((t) => t.pausedAt));
    });
  }
});

export type { Convergence };
