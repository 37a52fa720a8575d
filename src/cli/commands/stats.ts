import { UsageError } from '../../core/errors.js';
import { intOption, parseCommandArgs, type Command } from '../command.js';
import { seriesCsv } from '../../stats/format-csv.js';
import { seriesJson } from '../../stats/format-json.js';
import { seriesMarkdown } from '../../stats/format-markdown.js';
import { readLabelTable } from '../../stats/labels-csv.js';
import { loadMigrations } from '../../stats/load-sources.js';
import { FileProgress } from '../../stats/progress.js';
import { LoadTally, type MigrationRecord } from '../../stats/record.js';
import { SeriesAccumulator, type SeriesSummary } from '../../stats/series.js';

export const JOBS_HELP = `  --jobs N          capture files analysed in parallel, one worker thread each
                    (default: the number of cores, but one per 256 MiB of captures
                    at most; 1 = one after the other in the main thread)`;

const HELP = `usage: migscope stats FILE… [--by flavor,load] [--format md|csv|json] [--labels FILE.csv] [--include-failed] [--jobs N]

FILE: phase-event NDJSON (migscope analyze --json), a generator truth file (*.truth.json),
or a capture (pcap, pcapng, DPMI; analysed on the fly, several files in parallel).
  --by NAMES        group by these labels (from analyze --label k=v, truth factors or --labels)
  --format F        md (default, the study's Appendix A layout), csv or json
  --labels FILE     CSV with columns file and/or migration plus label columns
  --include-failed  also count migrations that did not complete (default: excluded, reported)
${JOBS_HELP}
`;

/** --jobs N: whole number of worker threads, 1 … 256 (undefined: one per core). */
export function parseJobsOption(value: string | undefined): number | undefined {
  return value === undefined ? undefined : intOption(value, 'jobs', 1, 256, 1);
}

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
  /** Capture files analysed at once (see --jobs); default one per core. */
  jobs?: number;
}

/** Loads every FILE with a progress bar on a terminal; shared by `stats` and `report`. */
export async function loadSeries(
  input: SeriesInput,
  onRecord?: (record: MigrationRecord, included: boolean) => void,
): Promise<SeriesSummary> {
  const tally = new LoadTally();
  const options: Parameters<typeof loadMigrations>[1] = { tally };
  if (input.labels !== undefined) options.labels = await readLabelTable(input.labels);
  if (input.jobs !== undefined) options.jobs = input.jobs;
  const acc = new SeriesAccumulator({ by: input.by, includeFailed: input.includeFailed });
  const progress = new FileProgress();
  // Counted per finished file, not per record taken: with a pool, later files finish
  // before earlier ones are consumed, and the bar should show what is done.
  let migrations = 0;
  options.onFile = (done, total, _path, fileMigrations) => {
    migrations += fileMigrations;
    progress.update(done, total, migrations);
  };
  try {
    for await (const record of loadMigrations(input.files, options)) {
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
      jobs: { type: 'string' },
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
    const jobs = parseJobsOption(values.jobs);
    if (jobs !== undefined) input.jobs = jobs;
    const series = await loadSeries(input);
    const text = format === 'csv' ? seriesCsv(series) : format === 'json' ? seriesJson(series) : seriesMarkdown(series);
    process.stdout.write(text);
    return 0;
  },
};
