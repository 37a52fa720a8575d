import type { Picos } from '../core/time.js';
import type { Outcome, PhaseName, Scenario } from '../phases/events.js';

/**
 * One migration as the statistics see it: the content of its `migration-ended` event
 * (or of a truth-file entry) plus the scenario and labels of its `migration-started`.
 * Durations stay bigint picoseconds here; they become float seconds only in summaries.
 */
export interface MigrationRecord {
  /** The file it was read from (NDJSON events, truth file or capture). */
  origin: string;
  /** Migration id within that file, e.g. "m1". */
  id: string;
  scenario: Scenario | undefined;
  labels: Record<string, string>;
  outcome: Outcome;
  reason?: string;
  /** Wire timestamp of the migration-started event (or of its first phase). */
  startTs?: Picos;
  phases: Partial<Record<PhaseName, PhaseSpan>>;
  total?: Picos;
  libvirtTotal?: Picos;
  downtime?: Picos;
}

export interface PhaseSpan {
  start: Picos;
  end: Picos;
  /** A marker was lost: the span is a bound, not a measurement (excluded from statistics). */
  uncertain?: string;
}

/** Why loading skipped input, counted per reason. */
export class LoadTally {
  readonly skipped = new Map<string, number>();
  count(reason: string, by = 1): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + by);
  }
  merge(other: LoadTally): void {
    for (const [reason, n] of other.skipped) this.count(reason, n);
  }
}
