import { describe, expect, it } from 'vitest';
import { AmqpStreamDecoder } from '../../../src/protocols/amqp/decode.js';
import { amqpAnalyzer } from '../../../src/protocols/amqp/index.js';
import type { AmqpMessage, Anomaly, ProtocolMessage } from '../../../src/protocols/types.js';
import { collecting, concat, rechunk, run, testFlow, type Segment } from '../stream-helpers.js';
import { seededRandom } from '../../helpers/rng.js';
import {
  PROTOCOL_HEADER_BYTES, body, ch, contentHeader, deliver, frame, heartbeat, longstr, method, osloEnvelope, publish,
  shortstr, table, u16, u32, u64,
} from './builders.js';

const call = {
  method: 'pre_live_migration', version: '6.0', _msg_id: 'a1b2', _reply_q: 'reply_q1', _unique_id: 'u1',
  args: { instance: { 'nova_object.name': 'Instance', 'nova_object.data': { uuid: 'inst-uuid', host: 'src' } }, block_migration: false },
  _context_user_id: 'u',
};
const callBody = osloEnvelope(call);
const reply = { result: { ok: 1 }, failure: null, ending: true, _msg_id: 'a1b2', _unique_id: 'u2' };
const castV1 = new TextEncoder().encode(JSON.stringify({ method: 'live_migration', args: { instance: 'uuid-2', dest: 'dst-host' } }));

/** A nova-compute-like connection: handshake, declarations, a call published, its reply delivered, a cast. */
const conversation: Segment[] = [
  { dir: 'c2s', ts: 10n, bytes: PROTOCOL_HEADER_BYTES },
  { dir: 's2c', ts: 11n, bytes: method(0, 10, 10, [0, 9, ...table([
    ['product', [ch('S'), ...longstr('RabbitMQ')]],
    ['capabilities', [ch('F'), ...table([['publisher_confirms', [ch('t'), 1]], ['consumer_priorities', [ch('t'), 1]]])]],
    ['n16', [ch('s'), ...u16(0xfffe)]], ['n64', [ch('l'), ...u64(5)]], ['f', [ch('d'), 0, 0, 0, 0, 0, 0, 0, 0]],
  ]), ...longstr('PLAIN AMQPLAIN'), ...longstr('en_US')]) },
  { dir: 'c2s', ts: 12n, bytes: concat(
    method(0, 10, 11, [...table([['product', [ch('S'), ...longstr('py-amqp')]]]), ...shortstr('AMQPLAIN'), ...longstr('\x05LOGINS\x00\x00\x00\x05guest'), ...shortstr('en_US')]),
  ) },
  { dir: 's2c', ts: 13n, bytes: method(0, 10, 30, [...u16(2047), ...u32(131072), ...u16(60)]) },
  { dir: 'c2s', ts: 14n, bytes: concat(
    method(0, 10, 31, [...u16(2047), ...u32(131072), ...u16(60)]),
    method(0, 10, 40, [...shortstr('/'), ...shortstr(''), 0]),
  ) },
  { dir: 's2c', ts: 15n, bytes: concat(method(0, 10, 41, [...shortstr('')]), method(1, 20, 11, [...longstr('')])) },
  { dir: 'c2s', ts: 16n, bytes: concat(
    method(1, 20, 10, [...shortstr('')]),
    method(1, 40, 10, [...u16(0), ...shortstr('nova'), ...shortstr('topic'), 0b00000000, ...table([])]),
    method(1, 50, 10, [...u16(0), ...shortstr('reply_q1'), 0, ...table([['x-expires', [ch('I'), ...u32(1800000)]]])]),
    method(1, 60, 20, [...u16(0), ...shortstr('reply_q1'), ...shortstr('tag1'), 0, ...table([])]),
    method(1, 85, 10, [0]),
    publish(1, 'nova', 'compute.dst-host'),
    contentHeader(1, callBody.length),
    body(1, callBody.subarray(0, 100)),
  ) },
  { dir: 'c2s', ts: 17n, bytes: concat(body(1, callBody.subarray(100)), heartbeat()) },
  { dir: 's2c', ts: 18n, bytes: concat(method(1, 50, 11, [...shortstr('reply_q1'), ...u32(0), ...u32(0)]), method(1, 60, 21, [...shortstr('tag1')]), method(1, 60, 80, [...u64(1), 0])) },
  { dir: 's2c', ts: 19n, bytes: concat(deliver(1, 'tag1', 1, '', 'reply_q1', true), contentHeader(1, osloEnvelope(reply).length)) },
  { dir: 's2c', ts: 20n, bytes: body(1, osloEnvelope(reply)) },
  { dir: 'c2s', ts: 21n, bytes: concat(method(1, 60, 80, [...u64(1), 0]), publish(1, 'nova', 'compute.dst-host'), contentHeader(1, castV1.length), body(1, castV1)) },
  { dir: 'c2s', ts: 22n, bytes: concat(publish(1, 'nova', 'empty'), contentHeader(1, 0, 'text/plain')) },
];

function decode(segments: Segment[]): ProtocolMessage[] {
  return run((e) => new AmqpStreamDecoder(testFlow(5672), e), segments, [{ dir: 'c2s', ts: 30n }, { dir: 's2c', ts: 30n }]);
}
const amqp = (out: ProtocolMessage[]): AmqpMessage[] => out.filter((m): m is AmqpMessage => m.protocol === 'amqp');
/** Each anomaly as its code and fields. */
const anomalies = (out: ProtocolMessage[]): Record<string, unknown>[] => out.filter((m): m is Anomaly => m.protocol === 'anomaly').map((a) => ({ code: a.code, ...a.fields }));

describe('AMQP 0-9-1 stream decoder', () => {
  it('assembles publish/deliver messages with oslo envelopes across a whole connection', () => {
    const out = decode(conversation);
    expect(anomalies(out)).toEqual([]);
    const msgs = amqp(out);
    expect(msgs.map((m) => [m.kind, m.channel, m.exchange, m.routingKey, m.bodySize, m.ts, m.tsEnd])).toEqual([
      ['publish', 1, 'nova', 'compute.dst-host', callBody.length, 16n, 17n],
      ['deliver', 1, '', 'reply_q1', osloEnvelope(reply).length, 19n, 20n],
      ['publish', 1, 'nova', 'compute.dst-host', castV1.length, 21n, 21n],
      ['publish', 1, 'nova', 'empty', 0, 22n, 22n],
    ]);
    expect(msgs[0]!.oslo).toEqual({ method: 'pre_live_migration', msgId: 'a1b2', replyQueue: 'reply_q1', isCall: true, isReply: false, instanceUuid: 'inst-uuid' });
    expect(msgs[1]!.oslo).toEqual({ msgId: 'a1b2', isCall: false, isReply: true, ending: true, hasResult: true });
    expect(msgs[2]!.oslo).toEqual({ method: 'live_migration', isCall: false, isReply: false, instanceUuid: 'uuid-2', host: 'dst-host' });
    expect(msgs[3]!.oslo).toBeUndefined();
    expect(msgs[0]!.src).toEqual({ ip: '10.0.0.1', port: 40000 });
    expect(msgs[1]!.src).toEqual({ ip: '10.0.0.2', port: 5672 });
  });

  it('gives identical messages for 1-byte and random chunking', () => {
    const whole = decode(conversation);
    expect(decode(rechunk(conversation, 'byte'))).toEqual(whole);
    for (let seed = 1; seed <= 20; seed++) expect(decode(rechunk(conversation, seededRandom(seed)))).toEqual(whole);
  });

  it('assembles messages whose frames interleave across channels', () => {
    const a = osloEnvelope({ method: 'm1', args: {} });
    const b = osloEnvelope({ method: 'm2', _msg_id: 'x', _reply_q: 'r', args: {} });
    const out = decode([{ dir: 'c2s', ts: 1n, bytes: concat(
      PROTOCOL_HEADER_BYTES, publish(1, 'nova', 'one'), publish(2, 'nova', 'two'), contentHeader(2, b.length),
      contentHeader(1, a.length), body(1, a.subarray(0, 5)), body(2, b), body(1, a.subarray(5)),
    ) }]);
    expect(anomalies(out)).toEqual([]);
    expect(amqp(out).map((m) => [m.channel, m.routingKey, m.oslo?.method, m.oslo?.isCall])).toEqual([[2, 'two', 'm2', true], [1, 'one', 'm1', false]]);
  });

  it('stops a direction on a bad frame end, unknown frame type or bad protocol header', () => {
    const good = concat(publish(1, 'e', 'k'), contentHeader(1, 0));
    const badEnd = frame(1, 1, [...u16(60), ...u16(80), ...u64(1), 0], 0x00);
    let out = decode([{ dir: 'c2s', ts: 1n, bytes: concat(PROTOCOL_HEADER_BYTES, badEnd, good) }]);
    expect(anomalies(out)).toEqual([{ code: 'AMQP_BAD_FRAME_END', byte: 0 }]);
    expect(amqp(out)).toEqual([]);
    out = decode([{ dir: 'c2s', ts: 1n, bytes: concat(PROTOCOL_HEADER_BYTES, frame(5, 0, []), good) }]);
    expect(anomalies(out)).toEqual([{ code: 'AMQP_UNKNOWN_FRAME_TYPE', frameType: 5 }]);
    out = decode([{ dir: 'c2s', ts: 1n, bytes: Uint8Array.from([0x41, 0x4d, 0x51, 0x50, 1, 1, 8, 0]) }]);
    expect(anomalies(out)).toEqual([{ code: 'AMQP_BAD_PROTOCOL_HEADER' }]);
  });

  it('reports malformed methods and orphan frames but keeps decoding', () => {
    const out = decode([{ dir: 'c2s', ts: 1n, bytes: concat(
      PROTOCOL_HEADER_BYTES,
      method(1, 60, 40, [...u16(0), 9, 0x61]),            // exchange shortstr says 9 bytes, 1 present
      method(1, 77, 1, []),                                // no such method
      contentHeader(1, 3),                                 // header without a method
      body(1, Uint8Array.of(1, 2, 3)),                     // body without a header
      publish(1, 'e', 'k'), contentHeader(1, 2), body(1, Uint8Array.of(1, 2, 3)), // longer than announced
      publish(1, 'e', 'k2'), contentHeader(1, 0),
    ) }]);
    expect(anomalies(out)).toEqual([
      { code: 'AMQP_METHOD_ARGS_OVERRUN', classId: 60, methodId: 40 },
      { code: 'AMQP_UNKNOWN_METHOD', classId: 77, methodId: 1 },
      { code: 'AMQP_HEADER_WITHOUT_METHOD', channel: 1 },
      { code: 'AMQP_BODY_WITHOUT_HEADER', channel: 1 },
      { code: 'AMQP_BODY_EXCEEDS_SIZE', channel: 1, bodySize: 2 },
    ]);
    expect(amqp(out).map((m) => m.routingKey)).toEqual(['k2']);
  });

  it('counts but does not keep bodies over 1 MiB, and survives a gap inside a body', () => {
    const big = 3 * 1024 * 1024;
    const { decoder: d, out } = collecting((e) => new AmqpStreamDecoder(testFlow(5672), e));
    d.data('c2s', concat(PROTOCOL_HEADER_BYTES, publish(1, 'nova', 'big'), contentHeader(1, big)), 1n);
    const chunk = new Uint8Array(131072).fill(0x7b);
    const bodyFrame = body(1, chunk);
    for (let i = 0; i < big / chunk.length; i++) d.data('c2s', bodyFrame, 2n);
    const env = osloEnvelope({ method: 'm', args: {} });
    d.data('c2s', concat(publish(1, 'nova', 'gappy'), contentHeader(1, env.length), frame(3, 1, env).subarray(0, 20)), 3n);
    d.gap('c2s', env.length - 13, 4n);
    d.data('c2s', Uint8Array.of(0xce), 5n);
    d.gap('c2s', 100, 6n);
    d.data('c2s', concat(publish(1, 'nova', 'after')), 7n);
    expect(amqp(out).map((m) => [m.routingKey, m.bodySize, m.oslo, m.tsEnd])).toEqual([['big', big, undefined, 2n], ['gappy', env.length, undefined, 5n]]);
    expect(anomalies(out)).toEqual([{ code: 'AMQP_GAP_ACROSS_FRAMES', length: 100 }]);
  });

  it('reports a connection closed inside a message', () => {
    const out = decode([{ dir: 'c2s', ts: 1n, bytes: concat(PROTOCOL_HEADER_BYTES, publish(1, 'nova', 'k'), contentHeader(1, 10)) }]);
    expect(anomalies(out)).toEqual([{ code: 'AMQP_CLOSED_IN_FRAME', open: 1 }]);
  });

  it('probes the protocol header', () => {
    expect(amqpAnalyzer.probe(PROTOCOL_HEADER_BYTES, testFlow(5672))).toBe(true);
    expect(amqpAnalyzer.probe(Uint8Array.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9]), testFlow(5672))).toBe(false);
    expect(amqpAnalyzer.probe(new TextEncoder().encode('GET / HTTP/1.1\r\n'), testFlow(5672))).toBe(false);
  });
});
