import { runAgent } from '../../agent/nats/agent.js';
import { UsageError } from '../../core/errors.js';
import { intOption, numberOption, parseCommandArgs, type Command } from '../command.js';
import { requireSources } from './analysis-options.js';

const USAGE = 'migscope agent FILE… --publish nats://HOST:4222 --mp NAME [--resume] [--speed X]';
const HELP = `usage: ${USAGE}

A measurement point: dissects the capture here and publishes its protocol messages,
sampled TCP segment sightings (for clock offsets) and watermark heartbeats to the NATS
JetStream stream MIGSCOPE (subject migscope.mp.NAME), each with the MP's sequence
number. Publishing waits for JetStream's acks (at most --window outstanding); while NATS
is unreachable up to --buffer records are held and resent (stored once), and reading
pauses when the buffer is full. Aggregate with \`migscope analyze --subscribe URL\`.
  --publish URL          the NATS server (nats://HOST:PORT)
  --mp NAME              this measurement point's name
  --resume               replay FILE from its start, publishing only the records the
                         stream does not hold yet (an agent restarted on the same input)
  --speed X              pace packets to their wire time / X (1 = real time)
  --sample-every N       one TCP segment in N is reported for clock offsets (default 8)
  --window N             publications awaiting an ack at once (default 256)
  --buffer N             records held until acked (default 50000)
FILE is a capture file (pcap, pcapng, DPMI); several are one MP's capture in time order.`;

export const command: Command = {
  summary: 'measurement point: dissect captures and publish messages to NATS JetStream',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      publish: { type: 'string' }, mp: { type: 'string' }, resume: { type: 'boolean' }, speed: { type: 'string' },
      'sample-every': { type: 'string' }, window: { type: 'string' }, buffer: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const files = requireSources(positionals, USAGE);
    if (values.publish === undefined) throw new UsageError(`--publish URL is required (usage: ${USAGE})`);
    if (values.mp === undefined) throw new UsageError(`--mp NAME is required (usage: ${USAGE})`);
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const opts: Parameters<typeof runAgent>[1] = {
        url: values.publish, mp: values.mp, resume: values.resume === true, signal: ac.signal,
        sampleEvery: intOption(values['sample-every'], 'sample-every', 1, 1_000_000, 8),
        window: intOption(values.window, 'window', 1, 100_000, 256),
        maxBuffered: intOption(values.buffer, 'buffer', 1, 10_000_000, 50_000),
      };
      if (values.speed !== undefined) opts.speed = numberOption(values.speed, 'speed', 0.001, 1e6, 1);
      const s = await runAgent(files, opts);
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
