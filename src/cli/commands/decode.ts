import type { ProtocolMessage } from '../../protocols/types.js';
import { analyzeSources } from '../../pipeline/analyze.js';
import { NdjsonWriter } from '../../output/ndjson.js';
import { runSummaryRecord } from '../../output/run-summary.js';
import { parseCommandArgs, type Command } from '../command.js';
import { stdout } from '../../output/stream.js';
import { captureOptions, outputOptions, requireSources, SOURCE_HELP, sourceOptions } from './analysis-options.js';

const USAGE = 'migscope decode SOURCE… [--workers N] [--filter BPF]';
const HELP = `usage: ${USAGE}

Protocol messages (TCP markers, libvirt RPC, QEMU stream records, HTTP, AMQP/oslo,
ICMP echo, ARP, anomalies) as NDJSON, one per line: ts (ps), flow, protocol, kind,
name, src, dst and the message's decoded fields; libvirt messages with bytes missing
carry missingBytes/missingKind (cut by the snaplen, or lost). Last, one summary
record (docs/events.md): packets, bytes, cut and lost TCP bytes, drops, anomalies.
${SOURCE_HELP}`;

/** A short name saying what the message is (procedure, RPC method, request line…). */
export function messageName(msg: ProtocolMessage): string | undefined {
  switch (msg.protocol) {
    case 'libvirt': return msg.kind === 'tls-record' ? undefined : msg.procedureName;
    case 'http': return msg.kind === 'request' ? `${msg.method} ${msg.path}` : `${msg.status}`;
    case 'amqp': return msg.oslo?.method ?? (msg.oslo?.isReply ? 'reply' : msg.routingKey);
    case 'anomaly': return msg.code;
    default: return undefined;
  }
}

/** The NDJSON record of one message: the leading keys first, then the decoded fields. */
export function messageRecord(msg: ProtocolMessage): Record<string, unknown> {
  const { ts, tsEnd, flowId, protocol, kind, src, dst, ...fields } = msg;
  const rec: Record<string, unknown> = { ts, flow: flowId, protocol, kind };
  const name = messageName(msg);
  if (name !== undefined) rec.name = name;
  rec.src = `${src.ip}${src.port ? `:${src.port}` : ''}`;
  rec.dst = `${dst.ip}${dst.port ? `:${dst.port}` : ''}`;
  if (tsEnd !== ts) rec.tsEnd = tsEnd;
  return Object.assign(rec, fields);
}

export const command: Command = {
  summary: 'protocol messages of captures as NDJSON, one per line',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, sourceOptions);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const sources = requireSources(positionals, USAGE);
    const out = stdout();
    const w = new NdjsonWriter(out);
    const opts: Parameters<typeof analyzeSources>[1] = {
      onEvent: () => {}, onMessage: (m) => w.write(messageRecord(m)), ...captureOptions(values), ...outputOptions(out),
    };
    // Like the event streams, the messages end with the summary record (cut bytes included).
    w.write(runSummaryRecord(await analyzeSources(sources, opts)));
    await out.close();
    return 0;
  },
};
