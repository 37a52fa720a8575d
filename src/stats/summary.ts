import { studentTQuantile } from './student-t.js';

/**
 * Running mean and sum of squared deviations (Welford). Durations are a few seconds
 * but may arrive as differences of ~1.7e9 s epoch timestamps or as large sums, and the
 * textbook Σx² − (Σx)²/n loses every digit there; Welford's update stays exact to a few
 * ulps whatever the offset of the data.
 */
export class RunningMoments {
  private count = 0;
  private runningMean = 0;
  private sumSquaredDeviations = 0;

  add(x: number): void {
    this.count += 1;
    const delta = x - this.runningMean;
    this.runningMean += delta / this.count;
    this.sumSquaredDeviations += delta * (x - this.runningMean);
  }

  get n(): number {
    return this.count;
  }

  get mean(): number {
    return this.count === 0 ? Number.NaN : this.runningMean;
  }

  /** Sample variance (n − 1 in the denominator); NaN below two values. */
  get variance(): number {
    return this.count < 2 ? Number.NaN : this.sumSquaredDeviations / (this.count - 1);
  }
}

/** Descriptive statistics of one metric in one group, as in the study's Appendix A. */
export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  sd: number;
  /** Half-width of the 95 % confidence interval of the mean: t(0.975, n−1)·sd/√n. */
  ci95: number;
  /** Coefficient of variation sd/mean (a fraction, not a percentage). */
  cov: number;
}

/** The study's own CI column: 1.96·sd/√n (normal quantile; see the stats README section). */
export function normalCi95(sd: number, n: number): number {
  return (1.959963984540054 * sd) / Math.sqrt(n);
}

export function summarize(moments: RunningMoments): Summary {
  const n = moments.n;
  const mean = moments.mean;
  const sd = Math.sqrt(moments.variance);
  const ci95 = n >= 2 ? (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n) : Number.NaN;
  const cov = mean !== 0 ? sd / mean : Number.NaN;
  return { n, mean, sd, ci95, cov };
}

export function summarizeValues(values: Iterable<number>): Summary {
  const m = new RunningMoments();
  for (const v of values) m.add(v);
  return summarize(m);
}
