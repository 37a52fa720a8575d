import { UsageError } from '../../core/errors.js';
import type { AggregatorEvent } from '../../agent/aggregate.js';
import { formatAggregation } from '../../agent/format.js';
import { analyzeMpFiles } from '../../agent/mp-files.js';
import { intOption } from '../command.js';
import { parseHosts, parseLabels } from './analysis-options.js';

export interface MpCliValues {
  hosts?: string | undefined;
  label?: string[] | undefined;
  'correct-clocks'?: boolean | undefined;
  reference?: string | undefined;
  'sample-every'?: string | undefined;
  filter?: string | undefined;
  workers?: string | undefined;
}

export const MP_HELP = `Measurement points (docs/clock-offsets.md):
  --mp-from-file         each capture file is one measurement point with its own clock:
                         dissected on its own, merged by wire time, what two MPs both
                         saw counted once, each MP's clock offset to the reference
                         estimated from TCP segments both saw (event clock-offset)
  --correct-clocks       shift each MP's timestamps onto the reference clock
  --reference NAME       the reference MP (default: the first file / first MP)
  --sample-every N       use one TCP segment in N for the offset estimate (default 8)`;

/** Merge/estimator options shared by --mp-from-file and --subscribe. */
export function mpOptions(values: MpCliValues): { correctClocks: boolean; reference?: string; sampleEvery: number } {
  if (values.filter !== undefined || values.workers !== undefined) throw new UsageError('--filter and --workers do not apply to measurement-point input');
  const out: { correctClocks: boolean; reference?: string; sampleEvery: number } = {
    correctClocks: values['correct-clocks'] === true,
    sampleEvery: intOption(values['sample-every'], 'sample-every', 1, 1_000_000, 8),
  };
  if (values.reference !== undefined) out.reference = values.reference;
  return out;
}

/** `analyze FILE… --mp-from-file`: events to `onEvent`, the table when `table`. */
export async function analyzeMpFilesCli(files: string[], values: MpCliValues, onEvent: (ev: AggregatorEvent) => void, table: boolean): Promise<void> {
  const summary = await analyzeMpFiles(files, {
    ...mpOptions(values), onEvent, labels: parseLabels(values.label), hosts: parseHosts(values.hosts),
  });
  if (table) {
    const lines = summary.sources.map((s) => `source ${s.source} = MP ${s.mp}: ${s.packets} packets${s.problem ? ` — ${s.problem}` : ''}`);
    process.stdout.write(formatAggregation(summary, lines));
  }
}
