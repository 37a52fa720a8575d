import { describe, expect, it } from 'vitest';
import { normalCi95, RunningMoments, summarizeValues } from '../../src/stats/summary.js';

describe('summary statistics', () => {
  it('mean, sample SD, t-based 95 % CI and CoV of a small sample (hand-computed)', () => {
    // x = 1, 2, 3, 4 s
    // mean = 10/4 = 2.5
    // Σ(x−mean)² = 2.25 + 0.25 + 0.25 + 2.25 = 5; sample variance = 5/3; SD = √(5/3) = 1.2909944487
    // 95 % CI half-width = t(0.975, 3)·SD/√4 = 3.1824463053 × 1.2909944487 / 2 = 4.1085205135 / 2 = 2.0542602568
    // CoV = SD/mean = 1.2909944487 / 2.5 = 0.5163977795
    const s = summarizeValues([1, 2, 3, 4]);
    expect(s.n).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(1.2909944487, 10);
    expect(s.ci95).toBeCloseTo((3.1824463053 * 1.2909944487) / 2, 9);
    expect(s.ci95).toBeCloseTo(2.0542602568, 9);
    expect(s.cov).toBeCloseTo(0.5163977795, 10);
  });

  it('leaves SD/CI undefined for a single value', () => {
    const s = summarizeValues([3.5]);
    expect(s.mean).toBe(3.5);
    expect(s.sd).toBeNaN();
    expect(s.ci95).toBeNaN();
    expect(summarizeValues([]).mean).toBeNaN();
  });

  it('Welford stays exact on ill-conditioned data where Σx² − (Σx)²/n collapses', () => {
    // Epoch-second offsets: 1e9 + {4, 7, 13, 16}; true mean 1e9+10, variance (36+9+9+36)/3 = 30.
    const xs = [4, 7, 13, 16].map((d) => 1e9 + d);
    const m = new RunningMoments();
    for (const x of xs) m.add(x);
    expect(m.mean).toBe(1e9 + 10);
    expect(m.variance).toBeCloseTo(30, 6);

    let sum = 0;
    let sumSq = 0;
    for (const x of xs) { sum += x; sumSq += x * x; }
    const naiveVariance = (sumSq - (sum * sum) / xs.length) / (xs.length - 1);
    // x² ≈ 1e18 has an ulp of 128: the naive formula is off by far more than the answer's size.
    expect(Math.abs(naiveVariance - 30)).toBeGreaterThan(1);
  });

  it("reproduces the study's CI column only with 1.96, not with t(0.975, 29)", () => {
    // Table A.1.1 (flavor 1, idle), n = 30: SD → published 95 % CI.
    const rows: Array<[string, number, number]> = [
      ['Authentication', 0.0157, 0.0056],
      ['Transfer', 0.0589, 0.0211],
      ['Downtime (ms)', 5.3099, 1.9001],
    ];
    for (const [, sd, published] of rows) {
      expect(normalCi95(sd, 30)).toBeCloseTo(published, 4);
    }
    // With the Student quantile the authentication half-width is 0.0059, not 0.0056.
    const tHalfWidth = (2.045230 * 0.0157) / Math.sqrt(30);
    expect(tHalfWidth.toFixed(4)).toBe('0.0059');
  });
});
