import { UsageError } from '../../core/errors.js';
import type { AggregatorEvent } from '../../agent/aggregate.js';
import type { PhaseEvent } from '../../phases/events.js';
import { analyzeSources } from '../../pipeline/analyze.js';
import type { MsgpackWriter } from '../../output/msgpack.js';
import { NdjsonWriter } from '../../output/ndjson.js';
import { runSummaryRecord } from '../../output/run-summary.js';
import { formatSummary } from '../../output/summary.js';
import { parseCommandArgs, type Command } from '../command.js';
import { stdout } from '../../output/stream.js';
import { analyzeMpFilesCli, analyzeSubscribeCli, checkMpOptions, MP_HELP, mpOptionSpecs } from './analyze-mp.js';
import { captureOptions, outputOptions, parseHosts, parseLabels, requireSources, SOURCE_HELP, sourceOptions } from './analysis-options.js';

const USAGE = 'migscope analyze SOURCE… [--json|--msgpack] [--workers N] [--filter BPF] [--label k=v] [--hosts …] [--mp-from-file [--correct-clocks]] | analyze --subscribe nats://HOST:4222';
const HELP = `usage: ${USAGE}

Phase events of every VM live migration in the capture(s). Several SOURCEs are merged
by wire timestamp.
  (default)    a table per migration: phase, start offset, duration (s, µs precision),
               totals, downtime, pre-copy iterations and stream bytes
  --json       the events as NDJSON, one per line (timestamps/durations in ps, strings)
  --msgpack    the events as concatenated msgpack maps (ps as uint64)
${SOURCE_HELP}
${MP_HELP}`;

export const command: Command = {
  summary: 'phase events of the migrations in captures (table, NDJSON or msgpack)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...sourceOptions,
      json: { type: 'boolean' },
      msgpack: { type: 'boolean' },
      ...mpOptionSpecs,
    });
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (values.json && values.msgpack) throw new UsageError('--json and --msgpack are exclusive');
    checkMpOptions(values);
    const sources = values.subscribe !== undefined && positionals.length === 0 ? [] : requireSources(positionals, USAGE);
    if (values.subscribe !== undefined && sources.length > 0) throw new UsageError('--subscribe takes no SOURCE (the MPs publish theirs)');
    const out = stdout();
    let onEvent: (ev: PhaseEvent | AggregatorEvent) => void = () => {};
    let writer: NdjsonWriter | MsgpackWriter | undefined;
    if (values.json) writer = new NdjsonWriter(out);
    else if (values.msgpack) writer = new (await import('../../output/msgpack.js')).MsgpackWriter(out); // its codec only when asked
    if (writer) {
      const w = writer;
      onEvent = (ev) => w.write(ev);
    }
    if (values.subscribe !== undefined) {
      await analyzeSubscribeCli(values.subscribe, values, onEvent, !values.json && !values.msgpack);
      await out.close();
      return 0;
    }
    if (values['mp-from-file']) {
      await analyzeMpFilesCli(sources, values, onEvent, !values.json && !values.msgpack);
      await out.close();
      return 0;
    }
    const opts: Parameters<typeof analyzeSources>[1] = {
      onEvent, labels: parseLabels(values.label), hosts: parseHosts(values.hosts), ...captureOptions(values), ...outputOptions(out),
    };
    // SIGINT stops reading (a file, or a live capture) and still closes the stream.
    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    process.once('SIGINT', onSigint);
    Object.assign(opts, outputOptions(out, ac.signal));
    let summary;
    try {
      summary = await analyzeSources(sources, opts);
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (writer) writer.write(runSummaryRecord(summary)); // every event stream ends with it
    else out.write(formatSummary(summary));
    await out.close();
    return 0;
  },
};
