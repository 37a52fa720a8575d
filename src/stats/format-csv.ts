import { METRICS } from './metrics.js';
import type { SeriesSummary } from './series.js';

/**
 * A text cell (label names and values come from event files and --labels CSVs, i.e. from
 * whoever wrote them). A cell starting with = + - @ tab or CR is a formula to a
 * spreadsheet: it gets a leading apostrophe (OWASP's CSV-injection advice), unless it
 * is a plain number such as -5, which no spreadsheet evaluates.
 */
export function csvField(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) && !/^[-+]?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function num(x: number): string {
  return Number.isFinite(x) ? String(x) : '';
}

/** Long form, one row per group × metric, full float precision (empty where undefined). */
export function seriesCsv(series: SeriesSummary): string {
  const keyNames = [...new Set(series.groups.flatMap((g) => Object.keys(g.key)))];
  const rows = [[...keyNames.map(csvField), 'metric', 'unit', 'n', 'mean', 'sd', 'ci95', 'cov', 'uncertain_excluded'].join(',')];
  for (const g of series.groups) {
    for (const m of METRICS) {
      const s = g.metrics[m.id];
      if (s.n === 0 && s.uncertain === 0) continue;
      rows.push([
        ...keyNames.map((k) => csvField(g.key[k] ?? '')),
        m.id, m.unit, String(s.n), num(s.mean), num(s.sd), num(s.ci95), num(s.cov), String(s.uncertain),
      ].join(','));
    }
  }
  return `${rows.join('\n')}\n`;
}
