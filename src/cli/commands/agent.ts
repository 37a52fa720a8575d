import { runAgent } from '../../agent/nats/agent.js';
import { livePoints, runLiveAgent } from '../../agent/nats/live-agent.js';
import { UsageError } from '../../core/errors.js';
import { intOption, numberOption, parseCommandArgs, type Command } from '../command.js';
import { captureOptions, requireSources } from './analysis-options.js';

const USAGE = 'migscope agent SOURCE… --publish nats://HOST:4222 --mp NAME [--resume] [--speed X]';
const HELP = `usage: ${USAGE}

A measurement point: dissects the capture here and publishes its protocol messages,
sampled TCP segment sightings (for clock offsets) and watermark heartbeats to the NATS
JetStream stream MIGSCOPE (subject migscope.mp.NAME), each with the MP's sequence
number, and an end record when its source ends. Publishing waits for JetStream's acks
(at most --window outstanding); while NATS is unreachable up to --buffer publications
are held and resent (stored once), and reading pauses when the buffer is full.
Aggregate with \`migscope analyze --subscribe URL\` or \`migscope serve --subscribe URL\`.
  --publish URL          the NATS server (nats://HOST:PORT)
  --mp NAME              this measurement point's name; several live sources are one MP
                         each, NAME/KEY, or named one by one with --mp KEY=NAME,KEY=NAME
                         (KEY: the MAMPID, or the interface of an iface: source)
  --window N             publications awaiting an ack at once (default 256)
  --buffer N             publications held until acked (default 50000)
Capture files (one MP; several files are its capture in time order):
  --resume               replay FILE from its start, publishing only the records the
                         stream does not hold yet (an agent restarted on the same input)
  --speed X              pace packets to their wire time / X (1 = real time)
  --sample-every N       one TCP segment in N is reported for clock offsets (default 8)
Live sources (iface:NAME, dpmi-iface:NAME/MAMPID[,MAMPID…]: one MP per interface or
MAMPID), captured until SIGINT/SIGTERM, then each MP sends its end record:
  --lag S                an idle MP's watermark trails its clock by S seconds (default 1):
                         the longest a packet takes from the wire to a decoded message
  --workers N            decode workers per source (default 1)
  --filter BPF           libpcap filter (iface: sources)
  --max-memory SIZE      per-source bound on connection state (default 256M)`;

export const command: Command = {
  summary: 'measurement point: dissect captures or live traffic and publish messages to NATS JetStream',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      publish: { type: 'string' }, mp: { type: 'string' }, resume: { type: 'boolean' }, speed: { type: 'string' },
      'sample-every': { type: 'string' }, window: { type: 'string' }, buffer: { type: 'string' },
      lag: { type: 'string' }, workers: { type: 'string' }, filter: { type: 'string' }, 'max-memory': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const sources = requireSources(positionals, USAGE);
    if (values.publish === undefined) throw new UsageError(`--publish URL is required (usage: ${USAGE})`);
    if (values.mp === undefined) throw new UsageError(`--mp NAME is required (usage: ${USAGE})`);
    const live = sources.some((s) => /^(dpmi-)?iface:/.test(s));
    const only = (names: string[], what: string): void => {
      const given = names.filter((n) => values[n as keyof typeof values] !== undefined);
      if (given.length > 0) throw new UsageError(`--${given[0]} is for ${what}`);
    };
    if (live) only(['resume', 'speed', 'sample-every'], 'capture files');
    else only(['lag', 'workers', 'filter', 'max-memory'], 'live sources');
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const publishing = {
      url: values.publish, signal: ac.signal,
      window: intOption(values.window, 'window', 1, 100_000, 256),
      maxBuffered: intOption(values.buffer, 'buffer', 1, 10_000_000, 50_000),
    };
    try {
      if (live) {
        const opts: Parameters<typeof runLiveAgent>[0] = {
          ...publishing, ...captureOptions(values), points: livePoints(sources, values.mp),
          workers: intOption(values.workers, 'workers', 1, 64, 1),
        };
        if (values.lag !== undefined) opts.lag = BigInt(Math.round(numberOption(values.lag, 'lag', 0, 3600, 1) * 1e6)) * 1_000_000n;
        process.stderr.write(`agent: ${opts.points.map((p) => `${p.source} = MP ${p.mp}`).join(', ')}; SIGINT/SIGTERM ends the capture\n`);
        const s = await runLiveAgent(opts);
        const p = s.publisher;
        for (const m of s.points) {
          process.stderr.write(`agent ${m.mp} (${m.source}): ${m.capture.packets} packets (${m.capture.ringDrops} ring drops, ${m.capture.kernelDrops} kernel drops),`
            + ` ${m.messages} messages (${m.raised} behind a published watermark), ${m.records} records published (seq ${m.firstSeq}–${m.lastSeq})\n`);
        }
        process.stderr.write(`agent: ${p.acked} NATS messages acked, ${p.resent} resent after ${p.failures} failures, ${p.duplicates} duplicates,`
          + ` peak ${p.peakBuffered} buffered${s.unacked > 0 ? `, ${s.unacked} NOT acked (NATS unreachable at the end)` : ''}\n`);
        return s.unacked > 0 ? 1 : 0;
      }
      const opts: Parameters<typeof runAgent>[1] = {
        ...publishing, mp: values.mp, resume: values.resume === true,
        sampleEvery: intOption(values['sample-every'], 'sample-every', 1, 1_000_000, 8),
      };
      if (values.speed !== undefined) opts.speed = numberOption(values.speed, 'speed', 0.001, 1e6, 1);
      const s = await runAgent(sources, opts);
      const p = s.publisher;
      process.stderr.write(`agent ${s.mp}: ${s.packets} packets, ${s.records} records published (seq ${s.firstSeq}–${s.lastSeq}`
        + `${s.skipped > 0 ? `, ${s.skipped} already stored` : ''}) in ${p.acked} NATS messages, ${p.resent} resent after ${p.failures} failures,`
        + ` ${p.duplicates} duplicates, peak ${p.peakBuffered} buffered${s.aborted ? ', stopped' : ''}\n`);
      return s.aborted ? 130 : 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
