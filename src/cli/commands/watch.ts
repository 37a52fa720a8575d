import { analyzeSources } from '../../pipeline/analyze.js';
import { LiveView } from '../../output/live-view.js';
import { formatSummary } from '../../output/summary.js';
import { numberOption, parseCommandArgs, type Command } from '../command.js';
import { UsageError } from '../../core/errors.js';
import { stdout } from '../../output/stream.js';
import { captureOptions, outputOptions, parseHosts, parseLabels, requireSources, SOURCE_HELP, sourceOptions } from './analysis-options.js';

const USAGE = 'migscope watch SOURCE [--realtime] [--speed X] [--workers N] [--filter BPF]';
const HELP = `usage: ${USAGE}

Live terminal view: one block per migration with its current phase, elapsed time,
transfer progress (bytes, rate, pre-copy pass) and finished phases; plain lines when
stdout is not a terminal. The summary table follows at the end.
  --realtime   replay a file at its wire speed (live sources always are)
  --speed X    with --realtime: X times faster than the wire (default 1)
${SOURCE_HELP}`;

/** Watches `source`; shared with `demo`. */
export async function watchSource(source: string, opts: { realtime: boolean; speed: number; hosts?: string; labels?: string[]; filter?: string; workers?: string; capture?: string; 'max-memory'?: string; 'downtime-limit'?: string }): Promise<void> {
  const out = stdout();
  // A live source or a paced replay has a wire clock to run on between packets.
  const live = source.startsWith('iface:') || source.startsWith('dpmi-iface:');
  // Written through the OutputStream (errors, backpressure); the terminal's shape read live.
  const view = new LiveView({
    write: (s: string) => out.write(s),
    get isTTY() { return process.stdout.isTTY; },
    get columns() { return process.stdout.columns; },
  }, live || opts.realtime ? { clockSpeed: live ? 1 : opts.speed } : {});
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const run: Parameters<typeof analyzeSources>[1] = {
      onEvent: (ev) => view.onEvent(ev), onMessage: (msg) => view.onWire(msg.ts), realtime: opts.realtime, speed: opts.speed,
      hosts: parseHosts(opts.hosts), labels: parseLabels(opts.labels), ...captureOptions(opts), ...outputOptions(out, ac.signal),
    };
    const summary = await analyzeSources([source], run);
    view.close();
    out.write(`\n${formatSummary(summary)}`);
    await out.close();
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export const command: Command = {
  summary: 'live terminal view of the migrations in a capture or on an interface',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...sourceOptions,
      realtime: { type: 'boolean' },
      speed: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const sources = requireSources(positionals, USAGE);
    if (sources.length > 1) throw new UsageError(`watch takes one SOURCE (usage: ${USAGE})`);
    const speed = numberOption(values.speed, 'speed', 0.01, 1e6, 1);
    const opts: Parameters<typeof watchSource>[1] = { realtime: values.realtime ?? false, speed };
    if (values.hosts !== undefined) opts.hosts = values.hosts;
    if (values.label !== undefined) opts.labels = values.label;
    if (values.filter !== undefined) opts.filter = values.filter;
    if (values.workers !== undefined) opts.workers = values.workers;
    if (values.capture !== undefined) opts.capture = values.capture;
    if (values['max-memory'] !== undefined) opts['max-memory'] = values['max-memory'];
    if (values['downtime-limit'] !== undefined) opts['downtime-limit'] = values['downtime-limit'];
    await watchSource(sources[0]!, opts);
    return 0;
  },
};
