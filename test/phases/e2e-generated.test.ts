import { afterAll, describe, expect, it } from 'vitest';
import { PS_PER_US } from '../../src/core/time.js';
import { compareWithTruth, endedOf, generateAndAnalyse, near, tempDir } from './generated.js';

/**
 * End to end against the generator's ground truth: capture file → readers → dissector
 * → decoders → phase engine. Every phase boundary, total and the downtime must equal
 * the truth (timestamps as written, so exactly; the brief allows 1 µs).
 */
const { dir, cleanup } = tempDir();
afterAll(cleanup);

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
