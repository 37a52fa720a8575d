import { describe, expect, it } from 'vitest';
import { AmqpStreamDecoder } from '../../src/protocols/amqp/decode.js';
import { HttpStreamDecoder } from '../../src/protocols/http/decode.js';
import { LibvirtDecoder } from '../../src/protocols/libvirt/decode.js';
import { QemuStreamDecoder } from '../../src/protocols/qemu/decode.js';
import { qemuAnalyzer } from '../../src/protocols/qemu/index.js';
import type { Emit, ProtocolMessage, StreamDecoder } from '../../src/protocols/types.js';
import { contractViolation } from '../helpers/anomaly-codes.js';
import { fuzzCount, reportFuzzed } from '../helpers/fuzz-scale.js';
import { seededRandom } from '../helpers/rng.js';
import { yieldToEventLoop } from '../helpers/yield.js';
import { PROTOCOL_HEADER_BYTES, body, contentHeader, deliver, frame, osloEnvelope, publish, method, table, shortstr, u16 } from './amqp/builders.js';
import { fuzzOnce, type FuzzTally } from './fuzz-helpers.js';
import { p2pConversation } from './libvirt/rpc-builder.js';
import { multifdChannel, sampleStream } from './qemu/stream-builder.js';
import { ascii, concat, testFlow, type Segment } from './stream-helpers.js';

/** Per decoder: 5 decoders × 200 000 = 1 M inputs with MIGSCOPE_FUZZ=full. */
const INPUTS = fuzzCount(100_000, 200_000);
const YIELD_EVERY = 2_000;

type Fuzzed = 'http' | 'amqp' | 'libvirt' | 'qemu';

function shapeCheck(protocol: Fuzzed): (m: ProtocolMessage) => void {
  return (m) => {
    if (typeof m.ts !== 'bigint' || typeof m.tsEnd !== 'bigint' || m.tsEnd < m.ts) throw new Error(`bad timestamps ${String(m.ts)} ${String(m.tsEnd)}`);
    if (m.protocol === 'anomaly') {
      if (m.kind !== 'protocol-error' && m.kind !== 'flow-memory') throw new Error(`unexpected anomaly kind ${m.kind}`);
      if (!m.code.startsWith(`${protocol.toUpperCase()}_`)) throw new Error(`code of another protocol: ${m.code}`);
      const broken = contractViolation(m);
      if (broken !== null) throw new Error(broken);
    } else if (m.protocol !== protocol) throw new Error(`unexpected message ${m.protocol}`);
  };
}

const httpCorpus: Segment[] = [
  { dir: 'c2s', ts: 1n, bytes: ascii('POST /v3/auth/tokens HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"auth": {"identity": {}}}\n') },
  { dir: 's2c', ts: 2n, bytes: ascii('HTTP/1.1 201 Created\r\nX-Subject-Token: t\r\nContent-Length: 2\r\n\r\n{}') },
  { dir: 'c2s', ts: 3n, bytes: ascii('POST /v2.1/servers/1/action HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"os-migrateLive\r\n15\r\n": {"host": "dst"}}\r\n0\r\nT: 1\r\n\r\nHEAD / HTTP/1.1\r\n\r\n') },
  { dir: 's2c', ts: 4n, bytes: ascii('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n') },
  { dir: 'c2s', ts: 5n, bytes: ascii('GET /x?y=1 HTTP/1.0\r\n\r\n') },
  { dir: 's2c', ts: 6n, bytes: ascii('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nread until close') },
];

const call = osloEnvelope({ method: 'pre_live_migration', _msg_id: 'm', _reply_q: 'r', args: { instance: { 'nova_object.data': { uuid: 'u' } } } });
const amqpCorpus: Segment[] = [
  { dir: 'c2s', ts: 1n, bytes: concat(PROTOCOL_HEADER_BYTES, method(0, 10, 11, [...table([['p', [0x53, 0, 0, 0, 1, 0x61]]]), ...shortstr('PLAIN'), 0, 0, 0, 0, ...shortstr('en')])) },
  { dir: 's2c', ts: 2n, bytes: method(0, 10, 30, [...u16(2047), 0, 2, 0, 0, ...u16(60)]) },
  { dir: 'c2s', ts: 3n, bytes: concat(method(1, 50, 10, [...u16(0), ...shortstr('q'), 0, ...table([['x-expires', [0x49, 0, 0, 1, 0]]])]), publish(1, 'nova', 'compute.h'), contentHeader(1, call.length), body(1, call.subarray(0, 50))) },
  { dir: 'c2s', ts: 4n, bytes: concat(body(1, call.subarray(50)), frame(8, 0, [])) },
  { dir: 's2c', ts: 5n, bytes: concat(deliver(2, 'tag', 7, '', 'r'), contentHeader(2, 4), body(2, ascii('{}  '))) },
  { dir: 's2c', ts: 6n, bytes: concat(publish(3, 'x', 'y'), contentHeader(3, 0), method(1, 60, 80, [0, 0, 0, 0, 0, 0, 0, 1, 0])) },
];

/** The libvirt p2p conversation (connect, begin/prepare3/perform/finish3/confirm3, keepalive). */
const libvirtCorpus: Segment[] = p2pConversation().map((seg, i) => ({ ...seg, ts: BigInt(i + 1) }));

/**
 * A whole small QEMU stream (header, RAM passes, END(ram), devices, EOF, vmdesc) as one
 * segment: the decoder is only ever attached at a stream's QEVM magic, so every input
 * starts there; mutations, cuts, re-chunking and gaps then hit every record type.
 */
const qemuCorpus: Segment[] = [{ dir: 'c2s', ts: 1n, bytes: sampleStream().build() }];

/** A multifd channel (init, sync and page packets; small pages keep it short). */
const multifdCorpus: Segment[] = [{
  dir: 'c2s', ts: 1n,
  bytes: multifdChannel(1, [{ packetNum: 0, sync: true }, { packetNum: 3, offsets: [512, 1024] }, { packetNum: 4, block: 'vga.vram', offsets: [0] }], 512, 8).bytes,
}];

const SEEDS: Record<Fuzzed, number> = { http: 1234, amqp: 5678, libvirt: 9012, qemu: 3456 };

async function fuzz(make: (emit: Emit) => StreamDecoder, corpus: Segment[], protocol: Fuzzed): Promise<FuzzTally> {
  const tally: FuzzTally = { inputs: 0, messages: 0, anomalies: 0, bytes: 0, thrown: 0 };
  const rand = seededRandom(SEEDS[protocol]);
  const check = shapeCheck(protocol);
  for (let i = 0; i < INPUTS; i++) {
    fuzzOnce(make, corpus, rand, tally, check);
    // Let the test worker answer vitest's RPC: a loop that holds the event loop for a
    // minute on a loaded machine ends the run with "Timeout calling onTaskUpdate".
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  return tally;
}

const CASES: [name: string, protocol: Fuzzed, make: (emit: Emit) => StreamDecoder, corpus: Segment[]][] = [
  ['HTTP', 'http', (e) => new HttpStreamDecoder(testFlow(80), e), httpCorpus],
  ['AMQP', 'amqp', (e) => new AmqpStreamDecoder(testFlow(5672), e), amqpCorpus],
  ['libvirt RPC', 'libvirt', (e) => new LibvirtDecoder(testFlow(16509), e), libvirtCorpus],
  ['QEMU stream', 'qemu', (e) => new QemuStreamDecoder(testFlow(49152), e), qemuCorpus],
  ['QEMU multifd channel', 'qemu', (e) => qemuAnalyzer.create(testFlow(49152), e), multifdCorpus],
];

describe('decoder fuzzing (mutated, truncated, re-chunked inputs)', () => {
  for (const [name, protocol, make, corpus] of CASES) {
    it(`${name}: ${INPUTS} inputs, nothing thrown, anomalies counted`, async () => {
      const t = await fuzz(make, corpus, protocol);
      reportFuzzed(`decoder ${name}`, t.inputs);
      expect(t.inputs).toBe(INPUTS);
      expect(t.firstError).toBeUndefined();
      expect(t.thrown).toBe(0);
      // Both outcomes are exercised: malformed input reported, valid parts still decoded.
      expect(t.anomalies).toBeGreaterThan(INPUTS / 10);
      expect(t.messages).toBeGreaterThan(INPUTS / 20);
    }, 1_200_000);
  }
});
