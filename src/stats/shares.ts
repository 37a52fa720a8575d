import { PHASES, type PhaseName } from '../phases/events.js';
import type { GroupSummary } from './series.js';

/** One phase's part of a group's migration time (study §6.1, Fig 6.1–6.4 and Appendix B). */
export interface PhaseShare {
  phase: PhaseName;
  /** Mean phase duration, seconds. */
  mean: number;
  /** Percent of the sum of the phase means: the bars stack to exactly 100 % (Fig 6.x). */
  scaled: number;
  /**
   * Percent of the mean total migration time: the bars stack to less than 100 % because
   * of keep-alives and gaps between phases (Appendix B).
   */
  unscaled: number;
}

/** Shares of the phases measured in this group, in timeline order. */
export function phaseShares(group: GroupSummary): PhaseShare[] {
  const present = PHASES.filter((p) => group.metrics[p].n > 0 && Number.isFinite(group.metrics[p].mean));
  let sum = 0;
  for (const p of present) sum += group.metrics[p].mean;
  const total = group.metrics.total.n > 0 ? group.metrics.total.mean : group.metrics['libvirt-total'].mean;
  return present.map((phase) => {
    const mean = group.metrics[phase].mean;
    return {
      phase,
      mean,
      scaled: sum > 0 ? (100 * mean) / sum : Number.NaN,
      unscaled: total > 0 ? (100 * mean) / total : Number.NaN,
    };
  });
}
