import { UsageError } from '../../core/errors.js';
import { parseCommandArgs, type Command } from '../command.js';
import { seriesCsv } from '../../stats/format-csv.js';
import { seriesJson } from '../../stats/format-json.js';
import { seriesMarkdown } from '../../stats/format-markdown.js';
import { readLabelTable } from '../../stats/labels-csv.js';
import { loadMigrations } from '../../stats/load-sources.js';
import { FileProgress } from '../../stats/progress.js';
import { LoadTally, type MigrationRecord } from '../../stats/record.js';
import { SeriesAccumulator, type SeriesSummary } from '../../stats/series.js';

const HELP = `usage: migscope stats FILE… [--by flavor,load] [--format md|csv|json] [--labels FILE.csv] [--include-failed]

FILE: phase-event NDJSON (migscope analyze --json), a generator truth file (*.truth.json),
or a capture (analysed on the fly when the offline pipeline is available).
  --by NAMES        group by these labels (from analyze --label k=v, truth factors or --labels)
  --format F        md (default, the study's Appendix A layout), csv or json
  --labels FILE     CSV with columns file and/or migration plus label columns
  --include-failed  also count migrations that did not complete (default: excluded, reported)
`;

export const FORMATS = ['md', 'csv', 'json'] as const;

export function parseByOption(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--by needs at least one label name');
  return names;
}

export interface SeriesInput {
  files: string[];
  by: string[];
  labels?: string;
  includeFailed: boolean;
}

/** Loads every FILE with a progress bar on a terminal; shared by `stats` and `report`. */
export async function loadSeries(
  input: SeriesInput,
  onRecord?: (record: MigrationRecord, included: boolean) => void,
): Promise<SeriesSummary> {
  const tally = new LoadTally();
  const options: Parameters<typeof loadMigrations>[1] = { tally };
  if (input.labels !== undefined) options.labels = await readLabelTable(input.labels);
  const acc = new SeriesAccumulator({ by: input.by, includeFailed: input.includeFailed });
  const progress = new FileProgress();
  let migrations = 0;
  options.onFile = (done, total) => progress.update(done, total, migrations);
  try {
    for await (const record of loadMigrations(input.files, options)) {
      migrations += 1;
      const included = acc.add(record);
      onRecord?.(record, included);
    }
  } finally {
    progress.done();
  }
  return acc.finish(tally);
}

export const command: Command = {
  summary: 'per-phase statistics of a series (mean, SD, 95% CI, CoV), Markdown/CSV/JSON',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      by: { type: 'string' },
      format: { type: 'string', default: 'md' },
      labels: { type: 'string' },
      'include-failed': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const format = values.format;
    if (!FORMATS.some((f) => f === format)) throw new UsageError(`--format must be md, csv or json (got '${format}')`);
    if (positionals.length === 0) throw new UsageError('no input FILE (try --help)');
    const input: SeriesInput = { files: positionals, by: parseByOption(values.by), includeFailed: values['include-failed'] };
    if (values.labels !== undefined) input.labels = values.labels;
    const series = await loadSeries(input);
    const text = format === 'csv' ? seriesCsv(series) : format === 'json' ? seriesJson(series) : seriesMarkdown(series);
    process.stdout.write(text);
    return 0;
  },
};
