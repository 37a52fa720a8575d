import { describe, expect, it } from 'vitest';
import { ClockOffsetEstimator } from '../../src/agent/clock-offset.js';
import { noise } from './split.js';

const US = 1_000_000n;

/**
 * Synthetic sightings with known truth: segments between host a (on the reference MP's
 * side) and host b cross a link of one-way delay D with queueing jitter; the MP's clock
 * is OFFSET ahead. Both directions, so offset and delay separate.
 */
function feed(est: ClockOffsetEstimator, n: number, offset: bigint, delayAB: bigint, delayBA: bigint, seed: number): void {
  const jitter = noise(seed);
  let t = 1_800_000_000_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    t += 50n * US;
    const ab = i % 3 !== 0; // two data segments one way, one ACK the other
    const key = `seg-${i}`;
    if (ab) {
      est.sight('ref', { key, ts: t, src: '10.0.0.1', dst: '10.0.0.2' });
      est.sight('mp', { key, ts: t + delayAB + jitter(8n * US) + offset, src: '10.0.0.1', dst: '10.0.0.2' });
    } else {
      est.sight('mp', { key, ts: t + offset, src: '10.0.0.2', dst: '10.0.0.1' });
      est.sight('ref', { key, ts: t + delayBA + jitter(8n * US), src: '10.0.0.2', dst: '10.0.0.1' });
    }
  }
}

describe('clock offset estimator', () => {
  it('separates a +350 µs offset from a 20 µs one-way delay', () => {
    const est = new ClockOffsetEstimator('ref');
    feed(est, 3000, 350n * US, 20n * US, 20n * US, 1);
    const o = est.estimate('mp')!;
    expect(o.offset - 350n * US < US && 350n * US - o.offset < US).toBe(true);
    expect(o.delay >= 20n * US && o.delay <= 22n * US).toBe(true);
    expect(o.bound).toBeGreaterThanOrEqual(o.delay);
  });

  it('with asymmetric delays the error stays inside the bound', () => {
    const est = new ClockOffsetEstimator('ref');
    feed(est, 3000, -120n * US, 30n * US, 10n * US, 2);
    const o = est.estimate('mp')!;
    const err = o.offset + 120n * US;
    expect((err < 0n ? -err : err) <= o.bound).toBe(true);
    // The midpoint is off by half the asymmetry (10 µs): the bound covers it, nothing less.
    expect(err > 8n * US && err < 12n * US).toBe(true);
  });

  it('gives no estimate from one direction only, and ignores retransmitted keys', () => {
    const est = new ClockOffsetEstimator('ref');
    for (let i = 0; i < 100; i++) {
      est.sight('ref', { key: `k${i}`, ts: BigInt(i) * US, src: 'a', dst: 'b' });
      est.sight('mp', { key: `k${i}`, ts: BigInt(i) * US + 5n * US, src: 'a', dst: 'b' });
    }
    expect(est.estimate('mp')).toBeUndefined();
    est.sight('ref', { key: 'r', ts: 200n * US, src: 'b', dst: 'a' });
    est.sight('ref', { key: 'r', ts: 201n * US, src: 'b', dst: 'a' });
    est.sight('mp', { key: 'r', ts: 202n * US, src: 'b', dst: 'a' });
    expect(est.counts.ambiguous).toBe(1);
    expect(est.counts.paired).toBe(100);
  });
});
