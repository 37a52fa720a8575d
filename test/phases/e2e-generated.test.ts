import { afterAll, describe, expect, it } from 'vitest';
import { PS_PER_US, type Picos } from '../../src/core/time.js';
import type { MigrationTruth } from '../../src/generate/index.js';
import type { MigrationEnded, PhaseEvent } from '../../src/phases/events.js';
import { generateAndAnalyse, tempDir, type Analysed } from './generated.js';

/**
 * End to end against the generator's ground truth: capture file → readers → dissector
 * → decoders → phase engine. Every phase boundary, total and the downtime must equal
 * the truth (timestamps as written, so exactly; the brief allows 1 µs).
 */
const { dir, cleanup } = tempDir();
afterAll(cleanup);

const OUTCOME: Record<MigrationTruth['outcome'], MigrationEnded['outcome']> = {
  completed: 'completed', 'failed-prepare': 'failed', 'failed-transfer': 'failed', cancelled: 'cancelled',
};

function near(actual: Picos | undefined, expected: Picos | undefined, what: string): void {
  expect(actual, what).toBeDefined();
  const d = actual! - expected!;
  expect(d <= PS_PER_US && d >= -PS_PER_US, `${what}: ${actual} vs truth ${expected} (Δ ${d} ps)`).toBe(true);
}

function endedOf(events: PhaseEvent[]): MigrationEnded[] {
  return events.filter((e): e is MigrationEnded => e.type === 'migration-ended');
}

/** Pairs each truth migration with the analysed one (by domain, else by order). */
function pair(r: Analysed): [MigrationTruth, MigrationEnded][] {
  const ended = endedOf(r.events);
  expect(ended.length, 'migrations found').toBe(r.truth.migrations.length);
  return r.truth.migrations.map((t, i) => {
    const rec = r.summary.migrations.find((m) => m.domain === t.domain && !m.id.startsWith('?')) ?? r.summary.migrations[i]!;
    return [t, rec.ended];
  });
}

export function compareWithTruth(r: Analysed, opts: { exactPhases?: boolean } = {}): void {
  for (const [t, e] of pair(r)) {
    const tag = `${t.id} ${t.scenario} f${t.factors.flavor} l${t.factors.load}`;
    expect(e.outcome, `${tag} outcome (${e.reason ?? ''})`).toBe(OUTCOME[t.outcome]);
    if (opts.exactPhases !== false) {
      expect(Object.keys(e.phases).sort(), `${tag} phases`).toEqual(Object.keys(t.phases).sort());
      for (const [name, span] of Object.entries(t.phases)) {
        const got = e.phases[name as keyof typeof e.phases];
        expect(got?.uncertain, `${tag} ${name} uncertain`).toBeUndefined();
        near(got?.start, span!.start, `${tag} ${name} start`);
        near(got?.end, span!.end, `${tag} ${name} end`);
      }
    }
    if (t.total !== undefined) near(e.total, t.total, `${tag} total`);
    if (t.libvirtTotal !== undefined) near(e.libvirtTotal, t.libvirtTotal, `${tag} libvirtTotal`);
    if (t.downtime !== undefined) expect(e.downtime, `${tag} downtime`).toBe(t.downtime);
    const rec = r.summary.migrations.find((m) => m.ended === e)!;
    if (t.downtime !== undefined) expect(rec.lostPings, `${tag} lost pings`).toBe(t.lostPings);
    if (t.outcome === 'completed') {
      const { pause, ...stream } = e.stream!;
      expect(stream, `${tag} stream`).toEqual({
        bytes: t.streamBytes, iterations: t.iterations, precopyBytes: t.precopyBytes, stopCopyBytes: t.stopCopyBytes,
        ramStopCopyBytes: t.passBytes.at(-1),
      });
      // The stream's pause: switch-over (END(ram)) → EOF, the generator's marker packets.
      const [s, f] = [t.markers['stopcopy']!, t.markers['stream-eof']!];
      expect(pause, `${tag} pause`).toEqual({ start: s, end: f, min: f - s, max: pause!.max });
      expect(pause!.max >= pause!.min, `${tag} pause bound`).toBe(true);
    }
  }
}

const FLAVORS = [1, 2, 3, 4];
const LOADS = [0, 25, 50, 75, 100];

describe('end to end on generated traces (all flavor × load, both scenarios)', () => {
  for (const scenario of ['kvm', 'openstack'] as const) {
    for (const flavor of FLAVORS) {
      it(`${scenario} flavor ${flavor}, loads ${LOADS.join('/')}`, async () => {
        for (const load of LOADS) {
          const r = await generateAndAnalyse(dir, `${scenario}-${flavor}-${load}.pcap`, {
            scenario, flavor, load, payloadScale: 0.002, seed: flavor * 100 + load,
          });
          compareWithTruth(r);
        }
      });
    }
  }
});

describe('end to end: multi-run, overlapping, failed and cancelled migrations', () => {
  for (const scenario of ['kvm', 'openstack'] as const) {
    it(`${scenario}: three runs back to back`, async () => {
      const r = await generateAndAnalyse(dir, `${scenario}-runs.pcap`, { scenario, runs: 3, payloadScale: 0.002, seed: 7 });
      expect(r.truth.migrations).toHaveLength(3);
      compareWithTruth(r);
    });
    it(`${scenario}: two overlapping runs`, async () => {
      const r = await generateAndAnalyse(dir, `${scenario}-overlap.pcap`, { scenario, runs: 2, overlap: true, payloadScale: 0.002, seed: 8 });
      compareWithTruth(r);
    });
    for (const outcome of ['failed-prepare', 'failed-transfer', 'cancelled'] as const) {
      it(`${scenario}: ${outcome}`, async () => {
        const r = await generateAndAnalyse(dir, `${scenario}-${outcome}.pcap`, { scenario, outcome, payloadScale: 0.002, seed: 9 });
        compareWithTruth(r);
      });
    }
  }
});

describe('end to end: a lost marker packet makes its phase uncertain, never silently wrong', () => {
  const KVM_ONLY = new Set(['auth-request', 'auth-response', 'servers-get', 'pre-live-reply', 'post-call', 'post-reply']);
  for (const scenario of ['kvm', 'openstack'] as const) {
    it(`${scenario}: every losable marker`, async () => {
      const { LOSABLE_MARKERS } = await import('../../src/generate/index.js');
      for (const lose of LOSABLE_MARKERS) {
        if (scenario === 'kvm' && KVM_ONLY.has(lose)) continue;
        const r = await generateAndAnalyse(dir, `${scenario}-lose-${lose}.pcap`, { scenario, lose, payloadScale: 0.002, seed: 11 });
        const t = r.truth.migrations[0]!;
        const e = endedOf(r.events)[0];
        expect(e, `${lose}: migration found`).toBeDefined();
        expect(e!.outcome, `${lose}: outcome (${e!.reason ?? ''})`).toBe('completed');
        let uncertain = 0;
        for (const [name, span] of Object.entries(t.phases)) {
          const got = e!.phases[name as keyof typeof e.phases];
          expect(got, `${lose}: ${name} reported`).toBeDefined();
          const truthDur = span!.end - span!.start;
          const dur = got!.end - got!.start;
          if (got!.uncertain === undefined) {
            near(got!.start, span!.start, `${lose}: ${name} start`);
            near(got!.end, span!.end, `${lose}: ${name} end`);
          } else {
            uncertain++;
            if (/upper bound/.test(got!.uncertain)) expect(dur >= truthDur - PS_PER_US, `${lose}: ${name} upper bound ${dur} < ${truthDur}`).toBe(true);
            else if (/lower bound/.test(got!.uncertain)) expect(dur <= truthDur + PS_PER_US, `${lose}: ${name} lower bound ${dur} > ${truthDur}`).toBe(true);
            else throw new Error(`${lose}: ${name} uncertain without a bound: ${got!.uncertain}`);
          }
        }
        // A lost phase marker must show; the stop-and-copy packet only affects the stream.
        if (lose !== 'stopcopy') expect(uncertain, `${lose}: some phase flagged uncertain`).toBeGreaterThan(0);
      }
    });
  }
});
