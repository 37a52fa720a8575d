import { AmqpAnomaly } from '../../../src/protocols/amqp/anomaly-codes.js';
import { describe, expect, it } from 'vitest';
import { decodeContentHeader } from '../../../src/protocols/amqp/content.js';
import { PayloadReader, readFieldTable } from '../../../src/protocols/amqp/fields.js';
import { decodeMethod, methodName } from '../../../src/protocols/amqp/methods.js';
import { decodeOsloBody } from '../../../src/protocols/amqp/oslo.js';
import { ch, longstr, shortstr, table, u16, u32, u64 } from './builders.js';

const enc = new TextEncoder();

describe('AMQP field tables (0-9-1 with RabbitMQ errata)', () => {
  it('decodes every field-value type', () => {
    const bytes = Uint8Array.from(table([
      ['t', [ch('t'), 1]], ['b', [ch('b'), 0xff]], ['B', [ch('B'), 0xff]],
      ['s', [ch('s'), 0xff, 0xfe]], ['u', [ch('u'), 0xff, 0xfe]], ['I', [ch('I'), ...u32(0xfffffffe)]],
      ['i', [ch('i'), ...u32(0xfffffffe)]], ['l', [ch('l'), ...u64(2 ** 40)]],
      ['f', [ch('f'), 0x3f, 0xc0, 0, 0]], ['d', [ch('d'), 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]],
      ['D', [ch('D'), 2, ...u32(12345)]], ['S', [ch('S'), ...longstr('text')]], ['x', [ch('x'), ...longstr('\x01\x02')]],
      ['A', [ch('A'), ...u32(6), ch('I'), ...u32(7), ch('V')]], ['T', [ch('T'), ...u64(1732530000)]],
      ['F', [ch('F'), ...table([['n', [ch('t'), 0]]])]], ['V', [ch('V')]], ['__proto__', [ch('t'), 1]],
    ]));
    const r = new PayloadReader(bytes, 0, bytes.length);
    const t = readFieldTable(r);
    expect(r.ok).toBe(true);
    expect(r.pos).toBe(bytes.length);
    expect({ ...t }).toEqual({
      t: true, b: -1, B: 255, s: -2, u: 65534, I: -2, i: 4294967294, l: 2n ** 40n, f: 1.5, d: Math.PI,
      D: { decimal: { scale: 2, value: 12345 } }, S: 'text', x: Uint8Array.of(1, 2), A: [7, null], T: 1732530000,
      F: { n: false }, V: null, ['__proto__']: true,
    });
    expect(Object.getPrototypeOf(t)).toBe(null);
  });

  it('rejects unknown field types, overruns and runaway nesting without throwing', () => {
    const unknown = Uint8Array.from(table([['q', [ch('Q'), 1, 2]]]));
    let r = new PayloadReader(unknown, 0, unknown.length);
    readFieldTable(r);
    expect(r.ok).toBe(false);
    const overrun = Uint8Array.from([...u32(100), 1, 0x61]);
    r = new PayloadReader(overrun, 0, overrun.length);
    readFieldTable(r);
    expect(r.ok).toBe(false);
    let nested = table([]);
    for (let i = 0; i < 40; i++) nested = table([['n', [ch('F'), ...nested]]]);
    const deep = Uint8Array.from(nested);
    r = new PayloadReader(deep, 0, deep.length);
    readFieldTable(r);
    expect(r.ok).toBe(false);
  });

  it('decodes method arguments with packed bits', () => {
    const p = Uint8Array.from([...u16(50), ...u16(10), ...u16(0), ...shortstr('q'), 0b00010110, ...table([])]);
    const res = decodeMethod(p, 0, p.length);
    expect(res).toEqual({ ok: true, method: { classId: 50, methodId: 10, name: 'queue.declare', args: [0, 'q', false, true, true, false, true, {}] } });
    expect(methodName(60, 60)).toBe('basic.deliver');
    expect(methodName(99, 1)).toBe('99.1');
  });

  it('decodes content header properties including continuation flag words', () => {
    const p = Uint8Array.from([...u16(60), ...u16(0), ...u64(720), ...u16(0x8000 | 0x0200 | 0x0001), ...u16(0),
      ...shortstr('application/json'), ...shortstr('reply_x')]);
    expect(decodeContentHeader(p, 0, p.length)).toEqual({ ok: true, header: { classId: 60, bodySize: 720, contentType: 'application/json', replyTo: 'reply_x' } });
    expect(decodeContentHeader(p, 0, 10)).toEqual({ ok: false, problem: { def: AmqpAnomaly.HEADER_TOO_SHORT, fields: { length: 10 } } });
  });
});

describe('oslo.messaging envelopes', () => {
  const env = (inner: object): Uint8Array => enc.encode(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));

  it('tells calls, casts and replies apart and extracts instance and host', () => {
    expect(decodeOsloBody(env({ method: 'check_can_live_migrate_source', _msg_id: 'm1', _reply_q: 'reply_1', args: { instance: { uuid: 'u-plain' } } })))
      .toEqual({ method: 'check_can_live_migrate_source', msgId: 'm1', replyQueue: 'reply_1', isCall: true, isReply: false, instanceUuid: 'u-plain' });
    expect(decodeOsloBody(env({ method: 'live_migration', args: { instance_uuid: 'u2', dest: 'dst' } })))
      .toEqual({ method: 'live_migration', isCall: false, isReply: false, instanceUuid: 'u2', host: 'dst' });
    expect(decodeOsloBody(env({ result: null, failure: null, ending: true, _msg_id: 'm1' })))
      .toEqual({ msgId: 'm1', isCall: false, isReply: true, ending: true, hasResult: false });
    const failure = JSON.stringify({ class: 'MigrationPreCheckError', module: 'nova.exception', message: 'no', tb: [] });
    expect(decodeOsloBody(env({ result: null, failure, _msg_id: 'm2' })))
      .toEqual({ msgId: 'm2', isCall: false, isReply: true, ending: false, hasResult: false, failure: 'MigrationPreCheckError: no' });
  });

  it('accepts bare v1 messages and ignores non-oslo or broken bodies', () => {
    expect(decodeOsloBody(enc.encode(' {"method": "ping", "_msg_id": "x", "_reply_q": "r"}'))?.isCall).toBe(true);
    expect(decodeOsloBody(enc.encode('{"event_type": "compute.instance.update"}'))).toBeUndefined();
    expect(decodeOsloBody(enc.encode('{"oslo.version": "2.0", "oslo.message": "{broken"}'))).toBeUndefined();
    expect(decodeOsloBody(enc.encode('{"oslo.version": "2.0", "oslo.message": "'))).toBeUndefined();
    expect(decodeOsloBody(enc.encode('[1,2]'))).toBeUndefined();
    expect(decodeOsloBody(Uint8Array.of(0xff, 0xfe))).toBeUndefined();
  });
});
