import { UsageError } from '../../core/errors.js';
import type { AggregatorEvent } from '../../agent/aggregate.js';
import type { NatsAggregatorOptions } from '../../agent/nats/aggregator.js';
import { intOption, numberOption } from '../command.js';
import { parseHosts, parseLabels } from './analysis-options.js';

/** The measurement-point options, one spec for analyze and serve. */
export const mpOptionSpecs = {
  'mp-from-file': { type: 'boolean' },
  'correct-clocks': { type: 'boolean' },
  reference: { type: 'string' },
  'sample-every': { type: 'string' },
  subscribe: { type: 'string' },
  durable: { type: 'string' },
  expect: { type: 'string' },
  idle: { type: 'string' },
  'mp-timeout': { type: 'string' },
} as const;

export interface MpCliValues {
  hosts?: string | undefined;
  label?: string[] | undefined;
  'mp-from-file'?: boolean | undefined;
  'correct-clocks'?: boolean | undefined;
  reference?: string | undefined;
  'sample-every'?: string | undefined;
  filter?: string | undefined;
  workers?: string | undefined;
  subscribe?: string | undefined;
  durable?: string | undefined;
  expect?: string | undefined;
  idle?: string | undefined;
  'mp-timeout'?: string | undefined;
}

const SUBSCRIBE_HELP = `  --subscribe URL        no SOURCE: aggregate the MPs that \`migscope agent\` publishes to
                         NATS JetStream (durable consumer), publish the events to
                         migscope.events.<scenario>
  --durable NAME         the durable consumer (default migscope-aggregator, for serve
                         migscope-serve); a restart with the same name resumes without
                         losing or repeating events
  --expect MP,MP         MPs to wait for before anything is merged
  --mp-timeout S         an MP silent this long stops holding back the others (default 5)
  --correct-clocks       shift each MP's timestamps onto the reference clock
  --reference NAME       the reference MP (default: the first MP met)`;

export const MP_HELP = `Measurement points (docs/agents.md, docs/clock-offsets.md):
  --mp-from-file         each capture file is one measurement point with its own clock:
                         dissected on its own, merged by wire time, what two MPs both
                         saw counted once, each MP's clock offset to the reference
                         estimated from TCP segments both saw (event clock-offset)
  --sample-every N       use one TCP segment in N for the offset estimate (default 8)
${SUBSCRIBE_HELP}
  --idle S               --subscribe stops when every MP has sent its end, or after S
                         seconds without a record (default 10)`;

/** `serve --subscribe`: the same options, without the one-shot ones. */
export const SERVE_MP_HELP = `Measurement points (docs/agents.md):
${SUBSCRIBE_HELP}`;

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

/** Options that only mean something with --subscribe or --mp-from-file, given without them. */
export function checkMpOptions(values: MpCliValues): void {
  const subscribeOnly = (['durable', 'expect', 'idle', 'mp-timeout'] as const).filter((k) => values[k] !== undefined);
  if (values.subscribe === undefined && subscribeOnly.length > 0) throw new UsageError(`--${subscribeOnly[0]} needs --subscribe`);
  if (values.subscribe === undefined && values['mp-from-file'] !== true
    && (values['correct-clocks'] || values.reference !== undefined || values['sample-every'] !== undefined)) {
    throw new UsageError('--correct-clocks, --reference and --sample-every need --mp-from-file or --subscribe');
  }
}

/**
 * `--subscribe URL` and its options, checked, as aggregator options (no one-shot
 * timeout). Each kind of aggregator has its own default durable consumer: two sharing
 * one would each get part of the records.
 */
export function subscribeOptions(url: string, values: MpCliValues, durable = 'migscope-aggregator'): Omit<NatsAggregatorOptions, 'onEvent'> {
  const opts: Omit<NatsAggregatorOptions, 'onEvent'> = {
    ...mpOptions(values), url, labels: parseLabels(values.label), hosts: parseHosts(values.hosts),
    mpTimeout: numberOption(values['mp-timeout'], 'mp-timeout', 0.1, 86_400, 5) * 1000,
    durable: values.durable ?? durable,
  };
  if (values.expect !== undefined) opts.expect = values.expect.split(',').filter((x) => x.length > 0);
  return opts;
}

/** `analyze --subscribe URL`: the one-shot NATS aggregator. */
export async function analyzeSubscribeCli(url: string, values: MpCliValues, onEvent: (ev: AggregatorEvent) => void, table: boolean): Promise<void> {
  const { runNatsAggregator } = await import('../../agent/nats/aggregator.js');
  const { formatAggregation } = await import('../../agent/format.js');
  const opts: Parameters<typeof runNatsAggregator>[0] = {
    ...subscribeOptions(url, values), onEvent, idleTimeout: numberOption(values.idle, 'idle', 0.1, 86_400, 10) * 1000,
  };
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  opts.signal = ac.signal;
  try {
    const s = await runNatsAggregator(opts);
    if (table && s.aggregation) {
      process.stdout.write(formatAggregation(s.aggregation, [
        `NATS ${url}: ${s.stopped === 'ended' ? 'every MP ended' : s.stopped === 'idle' ? 'stopped after --idle without a record (some MP did not end)' : 'stopped'}, ${s.records} records${s.replayed > 0 ? ` (${s.replayed} re-read after a restart, ${s.republishSkipped} events already published)` : ''}, ${s.published} events published, ${s.badRecords} undecodable`,
      ]));
    }
  } finally {
    process.off('SIGINT', stop);
  }
}

/** `analyze FILE… --mp-from-file`: events to `onEvent`, the table when `table`. */
export async function analyzeMpFilesCli(files: string[], values: MpCliValues, onEvent: (ev: AggregatorEvent) => void, table: boolean): Promise<void> {
  // Loaded here: a plain `analyze FILE` does not pay for the measurement-point modules.
  const [{ analyzeMpFiles }, { formatAggregation }] = await Promise.all([import('../../agent/mp-files.js'), import('../../agent/format.js')]);
  const summary = await analyzeMpFiles(files, {
    ...mpOptions(values), onEvent, labels: parseLabels(values.label), hosts: parseHosts(values.hosts),
  });
  if (table) {
    const lines = summary.sources.map((s) => `source ${s.source} = MP ${s.mp}: ${s.packets} packets${s.problem ? ` — ${s.problem}` : ''}`);
    process.stdout.write(formatAggregation(summary, lines));
  }
}
