import { UsageError } from '../../core/errors.js';
import { writeReport } from '../../output/report/index.js';
import type { MigrationRecord } from '../../stats/record.js';
import { SeriesAccumulator } from '../../stats/series.js';
import { parseCommandArgs, type Command } from '../command.js';
import { JOBS_HELP, loadSeries, parseByOption, parseJobsOption, type SeriesInput } from './stats.js';

const HELP = `usage: migscope report FILE… -o DIR [--by flavor,load] [--labels FILE.csv] [--include-failed] [--gantt N] [--jobs N]

Writes DIR/index.html (self-contained, inline SVG) and every figure as DIR/*.svg:
phase-share bars (scaled to 100 % and unscaled), per-phase trend plots with 95 % CI
against each grouping label, the KVM/OpenStack comparison when both are present, and
Gantt timelines of the first N migrations (default 3).
  --by NAMES  grouping labels (default: flavor,load when the inputs carry them)
${JOBS_HELP}
`;

const DEFAULT_BY = ['flavor', 'load'];

export const command: Command = {
  summary: 'HTML + SVG report: phase shares, trends with 95% CI, KVM/OpenStack comparison, timelines',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      output: { type: 'string', short: 'o' },
      by: { type: 'string' },
      labels: { type: 'string' },
      'include-failed': { type: 'boolean', default: false },
      gantt: { type: 'string', default: '3' },
      jobs: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.output === undefined) throw new UsageError('-o DIR is required');
    if (positionals.length === 0) throw new UsageError('no input FILE (try --help)');
    const ganttCount = Number(values.gantt);
    if (!Number.isInteger(ganttCount) || ganttCount < 0 || ganttCount > 50) throw new UsageError('--gantt must be an integer from 0 to 50');
    const explicitBy = values.by !== undefined;
    const by = explicitBy ? parseByOption(values.by) : DEFAULT_BY;
    const input: SeriesInput = { files: positionals, by, includeFailed: values['include-failed'] };
    if (values.labels !== undefined) input.labels = values.labels;
    const jobs = parseJobsOption(values.jobs);
    if (jobs !== undefined) input.jobs = jobs;

    const scenarios = new SeriesAccumulator({ by: [], includeFailed: input.includeFailed });
    const samples: MigrationRecord[] = [];
    const seenLabelSets = new Set<string>();
    const labelsSeen = new Set<string>();
    // Kept only while the grouping may still change: regrouping them is cheaper than
    // analysing every capture a second time.
    const kept: MigrationRecord[] = [];
    let series = await loadSeries(input, (record, included) => {
      scenarios.add(record);
      if (!explicitBy) kept.push(record);
      for (const k of Object.keys(record.labels)) labelsSeen.add(k);
      if (!included || samples.length >= ganttCount || Object.keys(record.phases).length === 0) return;
      // Prefer timelines of different scenarios/groups over several runs of one cell.
      const key = `${record.scenario}|${JSON.stringify(record.labels)}`;
      if (seenLabelSets.has(key) && samples.length > 0) return;
      seenLabelSets.add(key);
      samples.push(record);
    });
    if (!explicitBy && !DEFAULT_BY.every((k) => labelsSeen.has(k))) {
      // No flavor/load labels on these inputs: group by whichever default labels exist.
      const regrouped = new SeriesAccumulator({ by: DEFAULT_BY.filter((k) => labelsSeen.has(k)), includeFailed: input.includeFailed });
      for (const record of kept) regrouped.add(record);
      series = { ...regrouped.finish(), skipped: series.skipped };
    }
    const { index, figures } = await writeReport(values.output, {
      series, scenarios: scenarios.finish(), samples, inputs: positionals, generatedBy: 'migscope report',
    });
    process.stdout.write(`${index} (${figures.length} figures, ${series.included} migrations)\n`);
    return 0;
  },
};
