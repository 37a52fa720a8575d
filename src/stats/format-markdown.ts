import { PHASES } from '../phases/events.js';
import { METRICS, phaseTitle } from './metrics.js';
import type { GroupSummary, SeriesSummary } from './series.js';
import { phaseShares } from './shares.js';
import { appendixReferenceFor } from './study-compare.js';

/** Four decimals as in the study's tables; "–" where a statistic is undefined (n < 2). */
export function fixed4(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : '–';
}

export function percent2(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(2)}%` : '–';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * One Appendix A table: rows = phases and totals present in the group. When the group
 * is a study cell (OpenStack, flavor × load), the study's mean is shown beside ours.
 */
export function groupTableMarkdown(group: GroupSummary): string {
  const ref = appendixReferenceFor(group);
  const lines = ref
    ? [`| Phases (seconds) | n | Mean | Standard Deviation | 95% CI | CoV | Study mean (${ref.table}) |`,
      `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`]
    : [`| Phases (seconds) | n | Mean | Standard Deviation | 95% CI | CoV |`, `| --- | ---: | ---: | ---: | ---: | ---: |`];
  for (const m of METRICS) {
    const s = group.metrics[m.id];
    if (s.n === 0) continue;
    const note = s.uncertain > 0 ? ` (${s.uncertain} uncertain excluded)` : '';
    const study = ref ? ` ${fixed4(ref.stat(m.id)?.mean ?? Number.NaN)} |` : '';
    lines.push(`| ${m.title}${note} | ${s.n} | ${fixed4(s.mean)} | ${fixed4(s.sd)} | ${fixed4(s.ci95)} | ${percent2(s.cov)} |${study}`);
  }
  return lines.join('\n');
}

function sharesTableMarkdown(series: SeriesSummary, kind: 'scaled' | 'unscaled'): string {
  const phases = PHASES.filter((p) => series.groups.some((g) => g.metrics[p].n > 0));
  const lines = [
    `| Group | ${phases.map(phaseTitle).join(' | ')} | Sum |`,
    `| --- | ${phases.map(() => '---:').join(' | ')} | ---: |`,
  ];
  for (const g of series.groups) {
    const shares = new Map(phaseShares(g).map((s) => [s.phase, s[kind]]));
    const cells = phases.map((p) => shares.get(p));
    const sum = cells.reduce<number>((a, v) => a + (v ?? 0), 0);
    lines.push(`| ${escapeCell(g.title)} | ${cells.map((v) => (v === undefined ? '–' : `${v.toFixed(1)}%`)).join(' | ')} | ${sum.toFixed(1)}% |`);
  }
  return lines.join('\n');
}

export function seriesMarkdown(series: SeriesSummary): string {
  const out: string[] = ['# Per-phase statistics', ''];
  const by = series.by.length > 0 ? `, grouped by ${series.by.join(', ')}` : '';
  out.push(`${series.included} migrations included${by}; ${series.groups.length} groups. ` +
    '95% CI = half-width t(0.975, n−1)·SD/√n; CoV = SD/Mean; downtime in milliseconds.');
  if (series.excluded.length > 0) {
    out.push('', `Excluded: ${series.excluded.map((e) => `${e.count} × ${escapeCell(e.reason)}`).join('; ')} (use --include-failed to count them).`);
  }
  if (series.skipped.length > 0) {
    out.push('', `Skipped input: ${series.skipped.map((e) => `${e.count} × ${escapeCell(e.reason)}`).join('; ')}.`);
  }
  for (const g of series.groups) {
    out.push('', `## ${escapeCell(g.title)} (n = ${g.migrations})`, '', groupTableMarkdown(g));
  }
  if (series.groups.length > 0) {
    out.push('', '## Phase share of the total, scaled to 100 % (study Fig 6.1–6.4)', '', sharesTableMarkdown(series, 'scaled'));
    out.push('', '## Phase share of the total migration time, unscaled (study Appendix B)', '', sharesTableMarkdown(series, 'unscaled'));
  }
  return `${out.join('\n')}\n`;
}
