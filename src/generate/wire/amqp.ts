/**
 * AMQP 0-9-1 frames as RabbitMQ and a client (kombu/oslo.messaging) exchange them:
 * `u8 type, u16 channel, u32 size, payload, 0xCE`.
 */
const enc = new TextEncoder();

export const FrameType = { Method: 1, Header: 2, Body: 3, Heartbeat: 8 } as const;
export const FRAME_END = 0xce;
export const FRAME_MAX = 131072;
export const PROTOCOL_HEADER = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

class Buf {
  private parts: number[] = [];
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v >> 8).u8(v); }
  u32(v: number): this { return this.u16(v >>> 16).u16(v & 0xffff); }
  u64(v: bigint): this { return this.u32(Number(v >> 32n)).u32(Number(v & 0xffffffffn)); }
  raw(b: Uint8Array): this { for (const x of b) this.parts.push(x); return this; }
  shortstr(s: string): this { const b = enc.encode(s); return this.u8(b.length).raw(b); }
  longstr(s: string | Uint8Array): this { const b = typeof s === 'string' ? enc.encode(s) : s; return this.u32(b.length).raw(b); }
  /** Field table of string ('S') and boolean ('t') values. */
  table(t: Record<string, string | boolean>): this {
    const inner = new Buf();
    for (const [k, v] of Object.entries(t)) {
      inner.shortstr(k);
      if (typeof v === 'boolean') inner.u8(0x74).u8(v ? 1 : 0);
      else inner.u8(0x53).longstr(v);
    }
    return this.longstr(inner.bytes());
  }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

export function frame(type: number, channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(7 + payload.length + 1);
  const v = new DataView(out.buffer);
  v.setUint8(0, type);
  v.setUint16(1, channel);
  v.setUint32(3, payload.length);
  out.set(payload, 7);
  out[7 + payload.length] = FRAME_END;
  return out;
}

function method(channel: number, classId: number, methodId: number, args: (b: Buf) => void): Uint8Array {
  const b = new Buf().u16(classId).u16(methodId);
  args(b);
  return frame(FrameType.Method, channel, b.bytes());
}

export function heartbeat(): Uint8Array {
  return frame(FrameType.Heartbeat, 0, new Uint8Array(0));
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// Connection and channel setup (class 10 connection, 20 channel, 60 basic).
export const connectionStart = (): Uint8Array =>
  method(0, 10, 10, (b) =>
    b.u8(0).u8(9)
      .table({ product: 'RabbitMQ', version: '3.10.8', platform: 'Erlang/OTP 25.2.3', copyright: 'Copyright (c) 2007-2022 VMware, Inc. or its affiliates.' })
      .longstr('AMQPLAIN PLAIN').longstr('en_US'));
export const connectionStartOk = (user: string, password: string): Uint8Array =>
  method(0, 10, 11, (b) =>
    b.table({ product: 'py-amqp', product_version: '5.1.1', connection_name: 'nova-compute:1234:compute1', capabilities: '' })
      .shortstr('PLAIN').longstr(`\u0000${user}\u0000${password}`).shortstr('en_US'));
export const connectionTune = (heartbeatS: number): Uint8Array =>
  method(0, 10, 30, (b) => b.u16(2047).u32(FRAME_MAX).u16(heartbeatS));
export const connectionTuneOk = (heartbeatS: number): Uint8Array =>
  method(0, 10, 31, (b) => b.u16(2047).u32(FRAME_MAX).u16(heartbeatS));
export const connectionOpen = (vhost: string): Uint8Array => method(0, 10, 40, (b) => b.shortstr(vhost).shortstr('').u8(0));
export const connectionOpenOk = (): Uint8Array => method(0, 10, 41, (b) => b.shortstr(''));
export const channelOpen = (ch: number): Uint8Array => method(ch, 20, 10, (b) => b.shortstr(''));
export const channelOpenOk = (ch: number): Uint8Array => method(ch, 20, 11, (b) => b.longstr(''));
export const basicConsume = (ch: number, queue: string, tag: string): Uint8Array =>
  method(ch, 60, 20, (b) => b.u16(0).shortstr(queue).shortstr(tag).u8(0).table({}));
export const basicConsumeOk = (ch: number, tag: string): Uint8Array => method(ch, 60, 21, (b) => b.shortstr(tag));
export const basicAck = (ch: number, deliveryTag: bigint): Uint8Array => method(ch, 60, 80, (b) => b.u64(deliveryTag).u8(0));

/** Content header + body frames of a JSON message (content-type, encoding, delivery-mode). */
function content(ch: number, body: Uint8Array): Uint8Array[] {
  const hdr = new Buf().u16(60).u16(0).u64(BigInt(body.length)).u16(0x8000 | 0x4000 | 0x1000)
    .shortstr('application/json').shortstr('utf-8').u8(2);
  const frames = [frame(FrameType.Header, ch, hdr.bytes())];
  const max = FRAME_MAX - 8;
  for (let o = 0; o < body.length; o += max) frames.push(frame(FrameType.Body, ch, body.subarray(o, o + max)));
  return frames;
}

export function basicPublish(ch: number, exchange: string, routingKey: string, body: Uint8Array): Uint8Array {
  return concatBytes([method(ch, 60, 40, (b) => b.u16(0).shortstr(exchange).shortstr(routingKey).u8(0)), ...content(ch, body)]);
}

export function basicDeliver(ch: number, consumerTag: string, deliveryTag: bigint, exchange: string, routingKey: string, body: Uint8Array): Uint8Array {
  return concatBytes([
    method(ch, 60, 60, (b) => b.shortstr(consumerTag).u64(deliveryTag).u8(0).shortstr(exchange).shortstr(routingKey)),
    ...content(ch, body),
  ]);
}
