import type { Scenario } from '../phases/events.js';
import { METRICS, metricValue, type MetricId } from './metrics.js';
import type { LoadTally, MigrationRecord } from './record.js';
import { RunningMoments, summarize, type Summary } from './summary.js';

export interface MetricSummary extends Summary {
  metric: MetricId;
  /** Values left out because a marker was lost (the phase duration is only a bound). */
  uncertain: number;
}

export interface GroupSummary {
  /** Grouping label → value (plus `scenario` when the inputs mix scenarios). */
  key: Record<string, string>;
  title: string;
  scenario: Scenario | 'mixed' | undefined;
  migrations: number;
  metrics: Record<MetricId, MetricSummary>;
}

export interface CountByReason { reason: string; count: number }

export interface SeriesSummary {
  by: string[];
  groups: GroupSummary[];
  included: number;
  /** Migrations left out (not completed, unless --include-failed). */
  excluded: CountByReason[];
  /** Input that could not be used at all (bad lines, malformed phases…). */
  skipped: CountByReason[];
}

export interface SeriesOptions {
  by: readonly string[];
  includeFailed?: boolean;
}

const NO_VALUE = '–';

class GroupAccumulator {
  migrations = 0;
  scenario: Scenario | 'mixed' | undefined;
  readonly moments = new Map<MetricId, RunningMoments>(METRICS.map((m) => [m.id, new RunningMoments()]));
  readonly uncertain = new Map<MetricId, number>();

  constructor(readonly key: Record<string, string>) {}

  add(record: MigrationRecord): void {
    this.migrations += 1;
    if (this.migrations === 1) this.scenario = record.scenario;
    else if (this.scenario !== record.scenario) this.scenario = 'mixed';
    for (const { id } of METRICS) {
      const v = metricValue(record, id);
      if (v === 'uncertain') this.uncertain.set(id, (this.uncertain.get(id) ?? 0) + 1);
      else if (v !== undefined && Number.isFinite(v)) this.moments.get(id)!.add(v);
    }
  }
}

/** Natural order: numeric label values numerically (load 25 before 100), others lexically. */
export function compareLabelValues(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Streams migrations into per-group running moments: memory is groups × metrics,
 * whatever the number of migrations.
 */
export class SeriesAccumulator {
  private readonly groups = new Map<string, GroupAccumulator>();
  private readonly excluded = new Map<string, number>();
  private readonly scenarios = new Set<Scenario | undefined>();
  private included = 0;

  constructor(private readonly options: SeriesOptions) {}

  add(record: MigrationRecord): boolean {
    if (record.outcome !== 'completed' && !this.options.includeFailed) {
      const reason = record.reason ? `${record.outcome}: ${record.reason}` : record.outcome;
      this.excluded.set(reason, (this.excluded.get(reason) ?? 0) + 1);
      return false;
    }
    this.included += 1;
    this.scenarios.add(record.scenario);
    const key: Record<string, string> = { scenario: record.scenario ?? NO_VALUE };
    for (const name of this.options.by) key[name] = record.labels[name] ?? NO_VALUE;
    const id = JSON.stringify(key);
    let group = this.groups.get(id);
    if (!group) {
      group = new GroupAccumulator(key);
      this.groups.set(id, group);
    }
    group.add(record);
    return true;
  }

  finish(tally?: LoadTally): SeriesSummary {
    const mixed = this.scenarios.size > 1;
    const by = this.options.by;
    const groups = [...this.groups.values()].map((g): GroupSummary => {
      const key: Record<string, string> = {};
      if (mixed || by.length === 0) key['scenario'] = g.key['scenario']!;
      for (const name of by) key[name] = g.key[name]!;
      const metrics = {} as Record<MetricId, MetricSummary>;
      for (const { id } of METRICS) {
        metrics[id] = { metric: id, ...summarize(g.moments.get(id)!), uncertain: g.uncertain.get(id) ?? 0 };
      }
      return { key, title: groupTitle(key), scenario: g.scenario, migrations: g.migrations, metrics };
    });
    const order = mixed ? ['scenario', ...by] : by;
    groups.sort((a, b) => {
      for (const name of order) {
        const c = compareLabelValues(a.key[name] ?? '', b.key[name] ?? '');
        if (c !== 0) return c;
      }
      return 0;
    });
    return {
      by: [...by],
      groups,
      included: this.included,
      excluded: byCount(this.excluded),
      skipped: tally ? byCount(tally.skipped) : [],
    };
  }
}

function byCount(map: Map<string, number>): CountByReason[] {
  return [...map].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}

export function groupTitle(key: Record<string, string>): string {
  const parts = Object.entries(key).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? parts.join(', ') : 'all migrations';
}

export async function summarizeSeries(
  records: AsyncIterable<MigrationRecord> | Iterable<MigrationRecord>,
  options: SeriesOptions,
  tally?: LoadTally,
): Promise<SeriesSummary> {
  const acc = new SeriesAccumulator(options);
  for await (const r of records) acc.add(r);
  return acc.finish(tally);
}
