import { formatIso, toSeconds } from '../../core/time.js';
import { PHASES } from '../../phases/events.js';
import { phaseTitle } from '../../stats/metrics.js';
import type { MigrationRecord } from '../../stats/record.js';
import { niceScale } from './axis.js';
import { chartTitle, xAxisNumeric, type PlotArea } from './frame.js';
import { phaseColor } from './share-chart.js';
import { el, svgDocument, txt } from './svg.js';

/**
 * One migration's phases as bars on its wire-time axis (seconds since its first
 * marker), one row per phase: shows the gaps and overlaps the totals hide.
 */
export function ganttChart(record: MigrationRecord, title: string): string {
  const spans = PHASES.flatMap((p) => (record.phases[p] ? [{ phase: p, span: record.phases[p]! }] : []));
  const rowHeight = 26;
  const area: PlotArea = { left: 130, top: 36, width: 760, height: Math.max(1, spans.length) * rowHeight };
  const width = area.left + area.width + 30;
  const height = area.top + area.height + 70;
  let origin = spans[0]?.span.start ?? 0n;
  let last = origin;
  for (const { span } of spans) {
    if (span.start < origin) origin = span.start;
    if (span.end > last) last = span.end;
  }
  const x = niceScale(0, toSeconds(last - origin), area.left, area.left + area.width, true, 8);
  const rows = spans.map(({ phase, span }, i) => {
    const x0 = x(toSeconds(span.start - origin));
    const x1 = x(toSeconds(span.end - origin));
    const yTop = area.top + i * rowHeight + 4;
    const duration = toSeconds(span.end - span.start);
    return el('g', { class: 'gantt-row', 'data-phase': phase },
      txt('text', { x: area.left - 8, y: yTop + 13, 'text-anchor': 'end', fill: '#111111' }, phaseTitle(phase)),
      el('rect', {
        class: 'span', x: x0, y: yTop, width: Math.max(1.5, x1 - x0), height: rowHeight - 8, fill: phaseColor(phase),
        stroke: span.uncertain ? '#000000' : 'none', 'stroke-dasharray': span.uncertain ? '3 2' : undefined,
      }, txt('title', {}, `${phaseTitle(phase)}: ${duration.toFixed(6)} s${span.uncertain ? ` (uncertain: ${span.uncertain})` : ''}`)),
      // Duration label right of the bar, or left of it when the bar reaches the right edge.
      x1 + 70 < area.left + area.width
        ? txt('text', { x: x1 + 4, y: yTop + 13, 'font-size': 10, fill: '#333333' }, `${duration.toFixed(4)} s`)
        : txt('text', { x: x0 - 4, y: yTop + 13, 'text-anchor': 'end', 'font-size': 10, fill: '#333333' }, `${duration.toFixed(4)} s`));
  });
  const subtitle = `start ${formatIso(origin)} (wire time)`;
  const body = [
    chartTitle(width, title),
    xAxisNumeric(area, x, `seconds since the first marker — ${subtitle}`),
    ...rows,
  ].join('');
  return svgDocument({ width, height, title, body, attrs: { class: 'gantt-chart' } });
}
