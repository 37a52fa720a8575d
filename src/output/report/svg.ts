/**
 * A tiny SVG/HTML string builder. Written here instead of using a plotting library:
 * the charts are a handful of rects, lines and texts, the output must be static and
 * self-contained (no browser, no fonts or scripts fetched), and every piece of text
 * passes through one escaping function.
 */

/** Escapes text and attribute values for XML/HTML (both quote kinds). */
export function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export type Attrs = Record<string, string | number | undefined>;

function attrString(attrs: Attrs): string {
  let out = '';
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    const value = typeof v === 'number' ? fmt(v) : v;
    out += ` ${k}="${esc(value)}"`;
  }
  return out;
}

/** Coordinates with two decimals: enough for screens, short files. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '0';
  return String(Math.round(n * 100) / 100);
}

/** An element; children are already-built markup (strings from el/text). */
export function el(name: string, attrs: Attrs = {}, ...children: string[]): string {
  return children.length === 0 ? `<${name}${attrString(attrs)}/>` : `<${name}${attrString(attrs)}>${children.join('')}</${name}>`;
}

/** A text node (escaped). */
export function txt(name: string, attrs: Attrs, content: string): string {
  return `<${name}${attrString(attrs)}>${esc(content)}</${name}>`;
}

export interface SvgDoc {
  width: number;
  height: number;
  body: string;
  /** Accessible title (shown as tooltip, read by screen readers). */
  title: string;
  /** Extra attributes on the root (e.g. class/data-* for tests). */
  attrs?: Attrs;
}

const SVG_STYLE = 'font-family:DejaVu Sans,Arial,Helvetica,sans-serif;font-size:12px';

export function svgDocument(doc: SvgDoc): string {
  return el('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    width: doc.width,
    height: doc.height,
    viewBox: `0 0 ${fmt(doc.width)} ${fmt(doc.height)}`,
    role: 'img',
    style: SVG_STYLE,
    ...doc.attrs,
  }, txt('title', {}, doc.title), el('rect', { width: doc.width, height: doc.height, fill: '#ffffff' }), doc.body);
}

/** Okabe–Ito colour-blind-safe palette, one colour per phase in timeline order. */
export const PHASE_COLORS = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#7F7F7F'] as const;
/** Series colours for trend lines (distinct from each other on white). */
export const SERIES_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#7F7F7F'] as const;
