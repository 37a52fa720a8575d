import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MigrationRecord } from '../../stats/record.js';
import type { SeriesSummary } from '../../stats/series.js';
import { ganttFigures, shareFigures, trendFigures, type Figure } from './figures.js';
import { renderReportHtml } from './html.js';

export { type Figure } from './figures.js';

export interface ReportInput {
  series: SeriesSummary;
  /** Same migrations grouped by scenario only, for the KVM/OpenStack comparison. */
  scenarios: SeriesSummary;
  /** A few single migrations drawn as Gantt timelines. */
  samples: readonly MigrationRecord[];
  inputs: readonly string[];
  generatedBy?: string;
}

export function buildFigures(input: ReportInput): Figure[] {
  return [
    ...shareFigures(input.series, 'scaled'),
    ...shareFigures(input.series, 'unscaled'),
    ...trendFigures(input.series),
    ...ganttFigures(input.samples),
  ];
}

/** Writes DIR/index.html (self-contained: SVG inline, CSS inline) and every figure as DIR/*.svg. */
export async function writeReport(dir: string, input: ReportInput): Promise<{ index: string; figures: Figure[] }> {
  await mkdir(dir, { recursive: true });
  const figures = buildFigures(input);
  for (const f of figures) await writeFile(join(dir, f.file), `<?xml version="1.0" encoding="UTF-8"?>\n${f.svg}\n`);
  const index = join(dir, 'index.html');
  await writeFile(index, renderReportHtml({
    series: input.series, scenarios: input.scenarios, figures, inputs: input.inputs,
    generatedBy: input.generatedBy ?? 'migscope',
  }));
  return { index, figures };
}
