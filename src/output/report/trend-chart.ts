import { niceScale } from './axis.js';
import { chartTitle, legend, xAxisCategories, yAxis, type PlotArea } from './frame.js';
import { el, fmt, SERIES_COLORS, svgDocument, txt } from './svg.js';

export interface TrendPoint {
  /** Index into the chart's categories. */
  category: number;
  mean: number;
  /** 95 % CI half-width (NaN: no error bar). */
  ci95: number;
  n: number;
}

export interface TrendSeries {
  name: string;
  points: readonly TrendPoint[];
}

export interface TrendChartSpec {
  title: string;
  xTitle: string;
  yTitle: string;
  categories: readonly string[];
  series: readonly TrendSeries[];
}

/**
 * Mean per factor level with 95 % CI error bars, one line per level of the other factor
 * (study Fig 6.5–6.26: "plot 1" against flavor, "plot 2" against CPU load).
 */
export function trendChart(spec: TrendChartSpec): string {
  const area: PlotArea = { left: 78, top: 36, width: Math.max(84 * spec.categories.length, 260), height: 260 };
  const width = area.left + area.width + 150;
  const height = area.top + area.height + 52;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of spec.series) {
    for (const p of s.points) {
      const half = Number.isFinite(p.ci95) ? p.ci95 : 0;
      lo = Math.min(lo, p.mean - half);
      hi = Math.max(hi, p.mean + half);
    }
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  const y = niceScale(lo, hi, area.top + area.height, area.top, false, 5);
  const { markup: xAxis, centers } = xAxisCategories(area, spec.categories, spec.xTitle);
  // Spread the series a little sideways so overlapping error bars stay distinguishable.
  const spread = Math.min(18, (area.width / Math.max(1, spec.categories.length)) * 0.4);
  const seriesMarkup = spec.series.map((s, si) => {
    const color = SERIES_COLORS[si % SERIES_COLORS.length]!;
    const dx = spec.series.length > 1 ? (si / (spec.series.length - 1) - 0.5) * spread : 0;
    const pts = s.points.map((p) => ({ ...p, px: centers[p.category]! + dx, py: y(p.mean) }));
    const parts: string[] = [];
    if (pts.length > 1) {
      parts.push(el('polyline', { class: 'trend-line', points: pts.map((p) => `${fmt(p.px)},${fmt(p.py)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 }));
    }
    for (const p of pts) {
      if (Number.isFinite(p.ci95) && p.ci95 > 0) {
        const top = y(p.mean + p.ci95);
        const bottom = y(p.mean - p.ci95);
        parts.push(el('g', { class: 'ci' },
          el('line', { x1: p.px, x2: p.px, y1: top, y2: bottom, stroke: color, 'stroke-width': 1.2 }),
          el('line', { x1: p.px - 4, x2: p.px + 4, y1: top, y2: top, stroke: color, 'stroke-width': 1.2 }),
          el('line', { x1: p.px - 4, x2: p.px + 4, y1: bottom, y2: bottom, stroke: color, 'stroke-width': 1.2 })));
      }
      parts.push(el('circle', { class: 'pt', cx: p.px, cy: p.py, r: 3.5, fill: color },
        txt('title', {}, `${s.name}, ${spec.categories[p.category]}: ${p.mean.toPrecision(5)} ± ${Number.isFinite(p.ci95) ? p.ci95.toPrecision(3) : '–'} (n = ${p.n})`)));
    }
    return el('g', { class: 'series', 'data-series': s.name }, ...parts);
  });
  const body = [
    chartTitle(width, spec.title),
    yAxis(area, y, spec.yTitle),
    xAxis,
    ...seriesMarkup,
    legend(area.left + area.width + 16, area.top, spec.series.map((s, i) => ({ label: s.name, color: SERIES_COLORS[i % SERIES_COLORS.length]! }))),
  ].join('');
  return svgDocument({ width, height, title: spec.title, body, attrs: { class: 'trend-chart' } });
}
