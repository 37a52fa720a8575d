import { describe, expect, it } from 'vitest';
import { lnGamma, regularizedIncompleteBeta, studentTCdf, studentTQuantile } from '../../src/stats/student-t.js';

/**
 * Independent check of the CDF: Abramowitz & Stegun 26.7.3/26.7.4 give P(|T| < t) for
 * integer ν as a finite trigonometric series (θ = atan(t/√ν)), no incomplete beta involved.
 */
function twoSidedClosedForm(t: number, nu: number): number {
  const theta = Math.atan(t / Math.sqrt(nu));
  const c2 = Math.cos(theta) ** 2;
  if (nu % 2 === 1) {
    if (nu === 1) return (2 * theta) / Math.PI;
    // (2/π)(θ + sinθ cosθ (1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ + … up to cos^(ν−3)θ))
    let term = 1;
    let sum = 1;
    for (let k = 1; k <= (nu - 3) / 2; k++) {
      term *= ((2 * k) / (2 * k + 1)) * c2;
      sum += term;
    }
    return (2 / Math.PI) * (theta + Math.sin(theta) * Math.cos(theta) * sum);
  }
  // sinθ (1 + ½cos²θ + (1·3)/(2·4) cos⁴θ + … up to cos^(ν−2)θ)
  let term = 1;
  let sum = 1;
  for (let k = 1; k <= (nu - 2) / 2; k++) {
    term *= ((2 * k - 1) / (2 * k)) * c2;
    sum += term;
  }
  return Math.sin(theta) * sum;
}

describe('Student t quantile', () => {
  // Published two-sided 95 % / 99 % critical values (t tables, 6 decimals).
  const TABLE_0975: Array<[number, number]> = [
    [1, 12.706205], [2, 4.302653], [3, 3.182446], [4, 2.776445], [5, 2.570582],
    [9, 2.262157], [10, 2.228139], [19, 2.093024], [29, 2.045230], [30, 2.042272],
    [60, 2.000298], [120, 1.979930],
  ];
  const TABLE_0995: Array<[number, number]> = [[1, 63.656741], [4, 4.604095], [29, 2.756386]];

  it.each(TABLE_0975)('t(0.975, %i) matches the table', (df, expected) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(expected, 6);
  });

  it.each(TABLE_0995)('t(0.995, %i) matches the table', (df, expected) => {
    expect(studentTQuantile(0.995, df)).toBeCloseTo(expected, 5);
  });

  it('is antisymmetric and tends to the normal quantile', () => {
    expect(studentTQuantile(0.025, 29)).toBeCloseTo(-2.045230, 6);
    expect(studentTQuantile(0.5, 7)).toBe(0);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5);
  });

  it('inverts the CDF', () => {
    for (const df of [1, 2, 3, 7, 29, 200]) {
      for (const p of [0.6, 0.9, 0.975, 0.999]) {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 12);
      }
    }
  });

  it('rejects invalid arguments with NaN', () => {
    expect(studentTQuantile(0.975, 0)).toBeNaN();
    expect(studentTQuantile(1.5, 3)).toBeNaN();
  });
});

describe('Student t CDF and its building blocks', () => {
  it('agrees with the closed form for integer degrees of freedom', () => {
    for (const nu of [1, 2, 3, 4, 5, 8, 11, 29]) {
      for (const t of [0.1, 0.7, 1.5, 2.045, 4, 12]) {
        const expected = 0.5 + twoSidedClosedForm(t, nu) / 2;
        expect(studentTCdf(t, nu)).toBeCloseTo(expected, 13);
        expect(studentTCdf(-t, nu)).toBeCloseTo(1 - expected, 13);
      }
    }
  });

  it('lnGamma matches factorials and Γ(½) = √π', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 13);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(11)).toBeCloseTo(Math.log(3628800), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });

  it('regularized incomplete beta: I_x(1,1) = x and I_x(a,1) = x^a', () => {
    for (const x of [0.01, 0.3, 0.5, 0.9]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 14);
      expect(regularizedIncompleteBeta(x, 3, 1)).toBeCloseTo(x ** 3, 14);
    }
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
  });
});
