import { METRICS, type MetricInfo } from '../../stats/metrics.js';
import type { MigrationRecord } from '../../stats/record.js';
import { compareLabelValues, type GroupSummary, type SeriesSummary } from '../../stats/series.js';
import { phaseShares } from '../../stats/shares.js';
import { ganttChart } from './gantt-chart.js';
import { shareChart, type ShareMode } from './share-chart.js';
import { trendChart, type TrendSeries } from './trend-chart.js';

export type FigureKind = 'share-scaled' | 'share-unscaled' | 'trend' | 'gantt';

export interface Figure {
  kind: FigureKind;
  /** File name in the output directory. */
  file: string;
  caption: string;
  svg: string;
}

export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

function partition<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * Phase-share bars: with several grouping labels, one chart per value of all but the
 * last label (the study: one figure per flavor), one bar per value of the last (load).
 */
export function shareFigures(series: SeriesSummary, mode: ShareMode): Figure[] {
  if (series.groups.length === 0) return [];
  const keyNames = Object.keys(series.groups[0]!.key);
  const barKey = keyNames[keyNames.length - 1];
  const chartKeys = keyNames.slice(0, -1);
  const charts = partition(series.groups, (g) => chartKeys.map((k) => `${k} ${g.key[k]}`).join(', '));
  const figures: Figure[] = [];
  for (const [chartLabel, groups] of charts) {
    const bars = groups.map((g) => ({ label: barKey ? `${barKey} ${g.key[barKey]}` : g.title, shares: phaseShares(g) }));
    const what = mode === 'scaled' ? 'Phase ratios (scaled to 100 %)' : 'Phase ratios of the total migration time (unscaled)';
    const title = chartLabel ? `${what} — ${chartLabel}` : what;
    figures.push({
      kind: mode === 'scaled' ? 'share-scaled' : 'share-unscaled',
      file: `share-${mode}${chartLabel ? `-${slug(chartLabel)}` : ''}.svg`,
      caption: title,
      svg: shareChart(title, bars, mode),
    });
  }
  return figures;
}

function levels(groups: readonly GroupSummary[], key: string): string[] {
  return [...new Set(groups.map((g) => g.key[key] ?? '–'))].sort(compareLabelValues);
}

/** One trend plot of a metric against factor `x`, a line per level of factor `line`. */
function trendFigure(metric: MetricInfo, groups: readonly GroupSummary[], x: string, line: string | undefined, prefix: string): Figure | undefined {
  const categories = levels(groups, x);
  const lineLevels = line ? levels(groups, line) : [''];
  const series: TrendSeries[] = [];
  for (const level of lineLevels) {
    const points = groups
      .filter((g) => line === undefined || g.key[line] === level)
      .filter((g) => g.metrics[metric.id].n > 0)
      .map((g) => ({
        category: categories.indexOf(g.key[x] ?? '–'),
        mean: g.metrics[metric.id].mean,
        ci95: g.metrics[metric.id].ci95,
        n: g.metrics[metric.id].n,
      }))
      .sort((a, b) => a.category - b.category);
    if (points.length > 0) series.push({ name: line ? `${line} ${level}` : metric.title, points });
  }
  if (series.length === 0) return undefined;
  const name = metric.title.replace(/ \(ms\)$/, '');
  const title = `${prefix}${name} vs ${x}`;
  return {
    kind: 'trend',
    file: `trend-${prefix ? `${slug(prefix)}-` : ''}${metric.id}-by-${slug(x)}.svg`,
    caption: `${title} (mean ± 95 % CI${line ? `, one line per ${line}` : ''})`,
    svg: trendChart({ title, xTitle: x, yTitle: metric.unit === 'ms' ? `${name} (ms)` : `${name} (s)`, categories, series }),
  };
}

/** Study Fig 6.5–6.26: every metric against each of (up to) two grouping labels. */
export function trendFigures(series: SeriesSummary): Figure[] {
  const factors = series.by.slice(0, 2);
  if (factors.length === 0 || series.groups.length === 0) return [];
  const mixed = series.groups.some((g) => 'scenario' in g.key && series.by.indexOf('scenario') < 0);
  const byScenario = mixed ? partition(series.groups, (g) => g.key['scenario'] ?? '–') : new Map([['', series.groups]]);
  const figures: Figure[] = [];
  for (const [scenario, groups] of byScenario) {
    const prefix = scenario ? `${scenario}: ` : '';
    for (const metric of METRICS) {
      if (!groups.some((g) => g.metrics[metric.id].n > 0)) continue;
      for (const [i, x] of factors.entries()) {
        const fig = trendFigure(metric, groups, x, factors[1 - i], prefix);
        if (fig) figures.push(fig);
      }
    }
  }
  return figures;
}

export function ganttFigures(samples: readonly MigrationRecord[]): Figure[] {
  return samples.map((r, i) => {
    const labels = Object.entries(r.labels).map(([k, v]) => `${k} ${v}`).join(', ');
    const title = `Migration ${r.id} (${r.scenario ?? 'unknown scenario'}${labels ? `, ${labels}` : ''})`;
    return { kind: 'gantt', file: `gantt-${i + 1}-${slug(r.id)}.svg`, caption: `${title} — ${r.origin}`, svg: ganttChart(r, title) };
  });
}
