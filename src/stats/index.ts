/** Statistics of migration series (the study's Appendix A): public entry points. */
export { studentTQuantile, studentTCdf, regularizedIncompleteBeta, lnGamma } from './student-t.js';
export { RunningMoments, summarize, summarizeValues, normalCi95, type Summary } from './summary.js';
export { type MigrationRecord, type PhaseSpan, LoadTally } from './record.js';
export { readMigrationEvents, readMigrationEventFile, joinMigrationEvents } from './load-events.js';
export { migrationsFromTruth, readTruthFile } from './load-truth.js';
export { loadMigrations, sniffInputKind, type InputKind, type LoadOptions } from './load-sources.js';
export { LabelTable, labelTableFromCsv, readLabelTable, parseCsv } from './labels-csv.js';
export { METRICS, METRIC_BY_ID, metricValue, phaseTitle, type MetricId, type MetricInfo } from './metrics.js';
export {
  SeriesAccumulator, summarizeSeries, compareLabelValues, groupTitle,
  type SeriesSummary, type GroupSummary, type MetricSummary, type SeriesOptions,
} from './series.js';
export { phaseShares, type PhaseShare } from './shares.js';
export { seriesMarkdown, groupTableMarkdown } from './format-markdown.js';
export { seriesCsv } from './format-csv.js';
export { seriesJson } from './format-json.js';
