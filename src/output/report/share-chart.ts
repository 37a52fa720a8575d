import { PHASES, type PhaseName } from '../../phases/events.js';
import { phaseTitle } from '../../stats/metrics.js';
import type { PhaseShare } from '../../stats/shares.js';
import { niceScale } from './axis.js';
import { chartTitle, legend, xAxisCategories, yAxis, type PlotArea } from './frame.js';
import { el, PHASE_COLORS, svgDocument, txt } from './svg.js';

export interface ShareBar {
  /** Category under the bar, e.g. "load 25". */
  label: string;
  shares: readonly PhaseShare[];
}

export type ShareMode = 'scaled' | 'unscaled';

const COLOR_OF = new Map<PhaseName, string>(PHASES.map((p, i) => [p, PHASE_COLORS[i]!]));

export function phaseColor(phase: PhaseName): string {
  return COLOR_OF.get(phase)!;
}

/**
 * Stacked bars of the phase shares, one bar per group (study Fig 6.1–6.4 when scaled to
 * 100 %, Appendix B when unscaled: there the stack stops short of 100 % by the time
 * spent between phases).
 */
export function shareChart(title: string, bars: readonly ShareBar[], mode: ShareMode): string {
  const phases = PHASES.filter((p) => bars.some((b) => b.shares.some((s) => s.phase === p)));
  const barSlot = 80;
  const area: PlotArea = { left: 78, top: 36, width: Math.max(barSlot * bars.length, 160), height: 300 };
  const width = area.left + area.width + 150;
  const height = area.top + area.height + 50;
  const y = niceScale(0, 100, area.top + area.height, area.top, true, 5);
  const { markup: xAxis, centers } = xAxisCategories(area, bars.map((b) => b.label), '');
  const barWidth = Math.min(56, barSlot * 0.65);
  const barMarkup = bars.map((bar, i) => {
    let acc = 0;
    const segments: string[] = [];
    for (const share of bar.shares) {
      const value = share[mode];
      if (!(value > 0)) continue;
      const y0 = y(acc);
      const y1 = y(acc + value);
      acc += value;
      const h = y0 - y1;
      const label = `${phaseTitle(share.phase)}: ${value.toFixed(1)} % (mean ${share.mean.toFixed(4)} s)`;
      segments.push(el('rect', {
        class: 'seg', 'data-phase': share.phase, x: centers[i]! - barWidth / 2, y: y1, width: barWidth, height: h,
        fill: phaseColor(share.phase), stroke: '#ffffff', 'stroke-width': 0.5,
      }, txt('title', {}, label)));
      if (h >= 14) {
        segments.push(txt('text', { x: centers[i]!, y: y1 + h / 2 + 4, 'text-anchor': 'middle', 'font-size': 10, fill: '#000000' }, `${value.toFixed(0)}%`));
      }
    }
    return el('g', { class: 'bar', 'data-label': bar.label }, ...segments);
  });
  const body = [
    chartTitle(width, title),
    yAxis(area, y, mode === 'scaled' ? 'share of the phases (%)' : 'share of total migration time (%)', (v) => `${v}%`),
    xAxis,
    ...barMarkup,
    legend(area.left + area.width + 16, area.top, [...phases].reverse().map((p) => ({ label: phaseTitle(p), color: phaseColor(p) }))),
  ].join('');
  return svgDocument({ width, height, title, body, attrs: { class: `share-chart ${mode}` } });
}
