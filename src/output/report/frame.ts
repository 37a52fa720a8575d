import { tickLabel, type LinearScale } from './axis.js';
import { el, txt } from './svg.js';

/** Plot area inside an SVG: margins leave room for tick labels, axis titles and legend. */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Horizontal grid lines with y tick labels, and the y-axis title (rotated). */
export function yAxis(area: PlotArea, y: LinearScale, title: string, format: (v: number) => string = (v) => tickLabel(v, y.ticks)): string {
  const parts: string[] = [];
  for (const t of y.ticks) {
    const py = y(t);
    parts.push(el('line', { x1: area.left, x2: area.left + area.width, y1: py, y2: py, stroke: '#dddddd', 'stroke-width': 1 }));
    parts.push(txt('text', { x: area.left - 6, y: py + 4, 'text-anchor': 'end', fill: '#333333' }, format(t)));
  }
  const cx = area.left - 52;
  const cy = area.top + area.height / 2;
  parts.push(txt('text', { x: cx, y: cy, transform: `rotate(-90 ${cx} ${cy})`, 'text-anchor': 'middle', fill: '#111111' }, title));
  parts.push(el('line', { x1: area.left, x2: area.left, y1: area.top, y2: area.top + area.height, stroke: '#333333' }));
  return el('g', { class: 'y-axis' }, ...parts);
}

/** Vertical grid lines with x tick labels for a numeric x axis, and its title. */
export function xAxisNumeric(area: PlotArea, x: LinearScale, title: string): string {
  const parts: string[] = [];
  const base = area.top + area.height;
  for (const t of x.ticks) {
    const px = x(t);
    parts.push(el('line', { x1: px, x2: px, y1: area.top, y2: base, stroke: '#eeeeee' }));
    parts.push(txt('text', { x: px, y: base + 16, 'text-anchor': 'middle', fill: '#333333' }, tickLabel(t, x.ticks)));
  }
  parts.push(el('line', { x1: area.left, x2: area.left + area.width, y1: base, y2: base, stroke: '#333333' }));
  parts.push(txt('text', { x: area.left + area.width / 2, y: base + 36, 'text-anchor': 'middle', fill: '#111111' }, title));
  return el('g', { class: 'x-axis' }, ...parts);
}

/** Category labels under evenly spaced slots; returns the slot centres too. */
export function xAxisCategories(area: PlotArea, labels: readonly string[], title: string): { markup: string; centers: number[] } {
  const slot = area.width / Math.max(1, labels.length);
  const centers = labels.map((_, i) => area.left + slot * (i + 0.5));
  const base = area.top + area.height;
  const parts = labels.map((label, i) => txt('text', { x: centers[i]!, y: base + 16, 'text-anchor': 'middle', fill: '#333333' }, label));
  parts.push(el('line', { x1: area.left, x2: area.left + area.width, y1: base, y2: base, stroke: '#333333' }));
  parts.push(txt('text', { x: area.left + area.width / 2, y: base + 36, 'text-anchor': 'middle', fill: '#111111' }, title));
  return { markup: el('g', { class: 'x-axis' }, ...parts), centers };
}

/** A vertical legend of coloured swatches. */
export function legend(x: number, y: number, entries: ReadonlyArray<{ label: string; color: string }>): string {
  const rows = entries.map((e, i) => el('g', { class: 'legend-entry', transform: `translate(${x} ${y + i * 20})` },
    el('rect', { width: 12, height: 12, fill: e.color, stroke: '#555555', 'stroke-width': 0.5 }),
    txt('text', { x: 18, y: 10, fill: '#111111' }, e.label)));
  return el('g', { class: 'legend' }, ...rows);
}

export function chartTitle(width: number, title: string): string {
  return txt('text', { x: width / 2, y: 20, 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold', fill: '#111111' }, title);
}
