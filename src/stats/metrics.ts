import { toSeconds } from '../core/time.js';
import { PHASE_TITLES, PHASES, type PhaseName } from '../phases/events.js';
import type { MigrationRecord } from './record.js';

/** A row of the study's Appendix A tables. */
export type MetricId = PhaseName | 'libvirt-total' | 'total' | 'downtime';

export interface MetricInfo {
  id: MetricId;
  /** Row title as in the study. */
  title: string;
  unit: 's' | 'ms';
}

export function phaseTitle(phase: PhaseName): string {
  return PHASE_TITLES[phase];
}

/** In the study's row order: phases in timeline order, libvirt time, total, downtime. */
export const METRICS: readonly MetricInfo[] = [
  ...PHASES.map((id): MetricInfo => ({ id, title: PHASE_TITLES[id], unit: 's' })),
  { id: 'libvirt-total', title: 'Migration Time (libvirt)', unit: 's' },
  { id: 'total', title: 'Total Migration Time', unit: 's' },
  { id: 'downtime', title: 'Downtime (ms)', unit: 'ms' },
];

export const METRIC_BY_ID = new Map(METRICS.map((m) => [m.id, m]));

export type MetricValue = number | 'uncertain' | undefined;

/**
 * The metric of one migration as a float (seconds, downtime in ms), computed from the
 * exact bigint picoseconds; 'uncertain' when a marker was lost (a bound, not a value).
 * KVM has no OpenStack phases: its total migration time is the libvirt time (Table 5.1).
 */
export function metricValue(record: MigrationRecord, metric: MetricId): MetricValue {
  switch (metric) {
    case 'libvirt-total':
      return record.libvirtTotal === undefined ? undefined : toSeconds(record.libvirtTotal);
    case 'total': {
      const total = record.total ?? (record.scenario === 'kvm' ? record.libvirtTotal : undefined);
      return total === undefined ? undefined : toSeconds(total);
    }
    case 'downtime':
      return record.downtime === undefined ? undefined : toSeconds(record.downtime) * 1e3;
    default: {
      const span = record.phases[metric];
      if (span === undefined) return undefined;
      if (span.uncertain !== undefined) return 'uncertain';
      return toSeconds(span.end - span.start);
    }
  }
}
