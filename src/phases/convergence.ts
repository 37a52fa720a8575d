import { PS_PER_MS, toSeconds, type Picos } from '../core/time.js';
import type { Convergence } from './events.js';

/** Where a RAM pass began on the wire: its first page record's packet and stream offset. */
export interface PassStart { iteration: number; ts: Picos; bytes: number }

/** Beyond this many projected passes a pre-copy is reported as not converging: QEMU has
 *  no pass limit, but a remainder that shrinks this slowly only ends by a timeout. */
export const MAX_PASSES_LEFT = 30;
export const DEFAULT_DOWNTIME_LIMIT: Picos = 300n * PS_PER_MS;

export type ConvergenceEstimate = Omit<Convergence, 'migration'>;

/**
 * The convergence estimate when pass k (`cur`, after `prev`) ends at `end`, stream
 * offset `endBytes`: the next pass started, or the switch-over.
 *
 * Pass k re-sends the pages dirtied during pass k−1, so the guest's dirty rate is
 * D = S(k) / T(k−1) and the wire rate W = S(k) / T(k); their ratio r = T(k) / T(k−1)
 * is the factor by which each pass shrinks. QEMU stops pre-copy once the remainder
 * fits the downtime limit: S ≤ X = W × limit. Projecting S(k+i) = S(k)·r^i, T(k+i) =
 * T(k)·r^i gives the passes left and the time to the switch-over; a remainder above X
 * with r ≥ 1, or one needing MAX_PASSES_LEFT passes or more, is `will-not-converge`.
 * Pass 1 alone has no dirty rate yet.
 */
export function estimateConvergence(prev: PassStart | undefined, cur: PassStart, end: Picos, endBytes: number,
  limit: Picos, switchover: boolean): ConvergenceEstimate | undefined {
  const duration = end - cur.ts;
  const bytes = Math.max(0, endBytes - cur.bytes);
  if (duration <= 0n) return undefined;
  const T = toSeconds(duration);
  const wireRate = bytes / T;
  const est: ConvergenceEstimate = {
    type: 'convergence', ts: end, iteration: cur.iteration, passStart: cur.ts, passBytes: bytes, passDuration: duration,
    wireRate, thresholdBytes: wireRate * toSeconds(limit),
  };
  if (prev === undefined) return est;
  const Tprev = toSeconds(cur.ts - prev.ts);
  if (Tprev <= 0) return est;
  est.dirtyRate = bytes / Tprev;
  est.ratio = T / Tprev;
  if (switchover) {
    est.verdict = 'converged';
    return est;
  }
  const r = est.ratio;
  const X = est.thresholdBytes;
  // Passes still to run, the one starting now included: pass k+i runs while the
  // remainder it leaves, S·r^(i+1), is above X. A remainder already below X converges
  // whatever r is (QEMU stops next); otherwise r ≥ 1 never gets there.
  let left = 1;
  let size = bytes * r;
  let eta = T * r;
  while (size * r > X) {
    if (r >= 1 || left >= MAX_PASSES_LEFT) {
      est.verdict = 'will-not-converge';
      return est;
    }
    size *= r;
    left++;
    eta += T * r ** left;
  }
  est.verdict = 'converging';
  est.passesLeft = left;
  est.eta = BigInt(Math.round(eta * 1e6)) * 1_000_000n;
  return est;
}
