/**
 * Student t distribution: CDF through the regularized incomplete beta function and the
 * quantile by inverting it. Written here rather than pulled from npm: the candidates
 * are either a large tree of micro-packages (@stdlib) or an untyped, rarely released
 * bundle (jstat), and all we need is one well-tested quantile for the 95 % CI.
 */

/** Lanczos approximation (g = 7, 9 terms) of ln Γ(x) for x > 0; ~15 significant digits. */
const LANCZOS_G = 7;
const LANCZOS_COEFFS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

export function lnGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) {
    // Reflection keeps the series in its accurate range: Γ(x)Γ(1−x) = π / sin(πx).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS_COEFFS[0]!;
  for (let i = 1; i < LANCZOS_COEFFS.length; i++) sum += LANCZOS_COEFFS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const CF_MAX_TERMS = 500;
const CF_EPSILON = 1e-16;
const CF_TINY = 1e-300;

/**
 * Continued fraction of I_x(a, b) (valid and fast for x < (a+1)/(a+b+2)), evaluated with
 * the modified Lentz method.
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < CF_TINY) d = CF_TINY;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= CF_MAX_TERMS; m++) {
    // Even step: d_{2m} = m (b − m) x / ((a + 2m − 1)(a + 2m)).
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + even * d;
    if (Math.abs(d) < CF_TINY) d = CF_TINY;
    c = 1 + even / c;
    if (Math.abs(c) < CF_TINY) c = CF_TINY;
    d = 1 / d;
    f *= d * c;
    // Odd step: d_{2m+1} = −(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + odd * d;
    if (Math.abs(d) < CF_TINY) d = CF_TINY;
    c = 1 + odd / c;
    if (Math.abs(c) < CF_TINY) c = CF_TINY;
    d = 1 / d;
    const step = d * c;
    f *= step;
    if (Math.abs(step - 1) < CF_EPSILON) break;
  }
  return f;
}

/** Regularized incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - (lnGamma(a) + lnGamma(b) - lnGamma(a + b));
  if (x < (a + 1) / (a + b + 2)) {
    return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  }
  // Symmetry I_x(a,b) = 1 − I_{1−x}(b,a) keeps the continued fraction convergent.
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df > 0, need not be an integer). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

const quantileCache = new Map<string, number>();

/**
 * The p-quantile of Student's t with `df` degrees of freedom: t such that P(T ≤ t) = p.
 * Solved on x = df/(df+t²), where the two-sided tail 2·(1−p) = I_x(df/2, ½) is monotone
 * in x, by bisection to the limit of double precision (robust for every df, no starting
 * guess needed), so t(0.975, 1) = 12.7062047… comes out as exactly as t(0.975, 1000).
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(df > 0) || !(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  const key = `${p}/${df}`;
  const cached = quantileCache.get(key);
  if (cached !== undefined) return cached;
  const upper = p > 0.5 ? p : 1 - p;
  const twoSidedTail = 2 * (1 - upper);
  let lo = 0; // I_0 = 0 < tail
  let hi = 1; // I_1 = 1 > tail
  for (let i = 0; i < 1100 && hi - lo > 0; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (regularizedIncompleteBeta(mid, df / 2, 0.5) < twoSidedTail) lo = mid;
    else hi = mid;
  }
  const x = 0.5 * (lo + hi);
  const t = Math.sqrt((df * (1 - x)) / x);
  const result = p > 0.5 ? t : -t;
  if (quantileCache.size < 10_000) quantileCache.set(key, result);
  return result;
}
