import { APPENDIX_A, TABLE_5_1, type AppendixATable, type ReferenceStat, type Table51Column } from '../generate/study-reference.js';
import type { MetricId } from './metrics.js';
import type { GroupSummary } from './series.js';

/** Where each metric sits in the transcribed study tables (src/generate/study-reference.ts). */
const REFERENCE_FIELD: Record<MetricId, keyof Table51Column & keyof AppendixATable> = {
  authentication: 'authentication',
  initialization: 'initialization',
  'remote-connect': 'remoteConnect',
  preparation: 'preparation',
  transfer: 'transfer',
  finish: 'finish',
  cleanup: 'cleanup',
  'post-migration': 'postMigration',
  'libvirt-total': 'libvirtTotal',
  total: 'total',
  downtime: 'downtimeMs',
};

export interface StudyReference {
  /** e.g. "Table A.2.3". */
  table: string;
  stat(metric: MetricId): ReferenceStat | undefined;
}

/**
 * The Appendix A table matching an OpenStack group whose labels name a study cell
 * exactly (flavor 1–4, load 0/25/50/75/100); undefined otherwise.
 */
export function appendixReferenceFor(group: GroupSummary): StudyReference | undefined {
  if (group.scenario !== 'openstack') return undefined;
  const flavor = Number(group.key['flavor']);
  const load = Number(group.key['load']);
  const table = APPENDIX_A.find((t) => t.flavor === flavor && t.load === load);
  if (!table) return undefined;
  return { table: table.table, stat: (metric) => table[REFERENCE_FIELD[metric]] as ReferenceStat };
}

/** Table 5.1 mean of a metric for a scenario (undefined where the study prints "-"). */
export function table51Mean(scenario: 'kvm' | 'openstack', metric: MetricId): number | undefined {
  return TABLE_5_1[scenario][REFERENCE_FIELD[metric]];
}
