/** Hand-built AMQP 0-9-1 bytes for the decoder tests (written from the spec, not from the decoder). */
const enc = new TextEncoder();

export function u8(n: number): number[] { return [n & 0xff]; }
export function u16(n: number): number[] { return [(n >> 8) & 0xff, n & 0xff]; }
export function u32(n: number): number[] { return [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]; }
export function u64(n: number): number[] { return [...u32(Math.floor(n / 2 ** 32)), ...u32(n >>> 0)]; }
export function shortstr(s: string): number[] { const b = enc.encode(s); return [b.length, ...b]; }
export function longstr(s: string | Uint8Array): number[] { const b = typeof s === 'string' ? enc.encode(s) : s; return [...u32(b.length), ...b]; }
/** A field table from already-encoded [name, type letter + value bytes] pairs. */
export function table(entries: [string, number[]][]): number[] {
  const body = entries.flatMap(([name, value]) => [...shortstr(name), ...value]);
  return [...u32(body.length), ...body];
}
export const ch = (c: string): number => c.charCodeAt(0);

export function frame(type: number, channel: number, payload: number[] | Uint8Array, end = 0xce): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out.set([type, ...u16(channel), ...u32(payload.length)]);
  out.set(payload, 7);
  out[7 + payload.length] = end;
  return out;
}
export function method(channel: number, classId: number, methodId: number, args: number[]): Uint8Array {
  return frame(1, channel, [...u16(classId), ...u16(methodId), ...args]);
}
/** basic content header: content-type, content-encoding, headers, delivery-mode, priority. */
export function contentHeader(channel: number, bodySize: number, contentType = 'application/json'): Uint8Array {
  const flags = 0x8000 | 0x4000 | 0x2000 | 0x1000 | 0x0800;
  return frame(2, channel, [
    ...u16(60), ...u16(0), ...u64(bodySize), ...u16(flags),
    ...shortstr(contentType), ...shortstr('utf-8'), ...table([['x-h', [ch('S'), ...longstr('v')]]]), 2, 0,
  ]);
}
export function body(channel: number, bytes: Uint8Array): Uint8Array { return frame(3, channel, bytes); }
export const heartbeat = (): Uint8Array => frame(8, 0, []);
export function publish(channel: number, exchange: string, routingKey: string, mandatory = false): Uint8Array {
  return method(channel, 60, 40, [...u16(0), ...shortstr(exchange), ...shortstr(routingKey), mandatory ? 1 : 0]);
}
export function deliver(channel: number, consumerTag: string, deliveryTag: number, exchange: string, routingKey: string, redelivered = false): Uint8Array {
  return method(channel, 60, 60, [...shortstr(consumerTag), ...u64(deliveryTag), redelivered ? 1 : 0, ...shortstr(exchange), ...shortstr(routingKey)]);
}
export function osloEnvelope(inner: object): Uint8Array {
  return enc.encode(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
}
export const PROTOCOL_HEADER_BYTES = Uint8Array.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
