import type { Picos } from '../../core/time.js';
import type { Direction, FlowInfo } from '../../decode/types.js';
import { ByteAccumulator } from '../byte-accumulator.js';
import type { AnomalyDef, AnomalyFields } from '../../core/anomaly.js';
import { streamAnomaly } from '../anomaly.js';
import type { Emit, StreamDecoder } from '../types.js';
import { AmqpAnomaly } from './anomaly-codes.js';
import type { AmqpMessage, CompletedContent } from './types.js';
import { ContentAssembler } from './assemble.js';
import {
  AMQP_LIMITS, FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, PROTOCOL_HEADER,
} from './types.js';

type HalfState = 'start' | 'protocol-header' | 'frame-header' | 'payload' | 'frame-end' | 'stopped';

/** One direction: the frame splitter's state and the channels' messages in assembly. */
class AmqpHalf {
  state: HalfState = 'start';
  readonly header = new Uint8Array(8);
  headerLen = 0;
  frameType = 0;
  channel = 0;
  size = 0;
  remaining = 0;
  frameTs: Picos = 0n;
  /** Method/header frame payload under assembly. */
  readonly payload = new ByteAccumulator(AMQP_LIMITS.maxFramePayload);
  /** The payload is not held (too big, or bytes lost in a gap): skip it. */
  payloadLost = false;
  readonly content: ContentAssembler;

  constructor(report: (def: AnomalyDef, ts: Picos, fields?: AnomalyFields) => void, complete: (m: CompletedContent) => void) {
    this.content = new ContentAssembler(report, complete);
  }
}

/**
 * AMQP 0-9-1 over one TCP connection: protocol header, frames with the 0xCE end check,
 * methods (all of 0-9-1 validated), content header + body frames assembled per channel
 * into one AmqpMessage per basic.publish / basic.deliver (and get-ok), with the
 * oslo.messaging envelope decoded from bodies up to 1 MiB.
 */
export class AmqpStreamDecoder implements StreamDecoder {
  private readonly halves: Record<Direction, AmqpHalf>;

  constructor(private readonly flow: FlowInfo, private readonly emit: Emit) {
    const mk = (dir: Direction): AmqpHalf => new AmqpHalf(
      (def, ts, fields) => this.anomaly(dir, ts, def, fields),
      (m) => this.emitMessage(dir, m),
    );
    this.halves = { c2s: mk('c2s'), s2c: mk('s2c') };
  }

  heldBytes(): number {
    const { c2s, s2c } = this.halves;
    return c2s.payload.capacity + s2c.payload.capacity + c2s.content.heldBytes + s2c.content.heldBytes;
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    const h = this.halves[dir];
    let pos = 0;
    let guard = bytes.length * 2 + 8;
    while (pos < bytes.length && h.state !== 'stopped' && guard-- > 0) {
      switch (h.state) {
        case 'start':
          // A peer opens with "AMQP…" (the server only to refuse a version); frames otherwise.
          h.state = bytes[pos] === 0x41 ? 'protocol-header' : 'frame-header';
          break;
        case 'protocol-header': {
          const n = Math.min(8 - h.headerLen, bytes.length - pos);
          h.header.set(bytes.subarray(pos, pos + n), h.headerLen);
          h.headerLen += n;
          pos += n;
          if (h.headerLen === 8) this.protocolHeader(dir, h, ts);
          break;
        }
        case 'frame-header': {
          if (h.headerLen === 0) h.frameTs = ts;
          const n = Math.min(7 - h.headerLen, bytes.length - pos);
          h.header.set(bytes.subarray(pos, pos + n), h.headerLen);
          h.headerLen += n;
          pos += n;
          if (h.headerLen === 7) this.frameHeader(h, ts);
          break;
        }
        case 'payload': {
          const n = Math.min(h.remaining, bytes.length - pos);
          if (h.frameType === FRAME_BODY) h.content.bodyBytes(h.channel, bytes, pos, pos + n, ts);
          else if (!h.payloadLost) h.payload.append(bytes, pos, pos + n);
          pos += n;
          h.remaining -= n;
          if (h.remaining === 0) h.state = 'frame-end';
          break;
        }
        case 'frame-end': {
          const b = bytes[pos++]!;
          if (b !== FRAME_END) {
            this.anomaly(dir, ts, AmqpAnomaly.BAD_FRAME_END, { byte: b });
            this.stop(h);
            break;
          }
          this.frameComplete(h, ts);
          h.headerLen = 0;
          h.state = 'frame-header';
          break;
        }
        default:
          pos = bytes.length;
      }
    }
  }

  gap(dir: Direction, length: number, ts: Picos): void {
    const h = this.halves[dir];
    if (h.state === 'stopped') return;
    if (h.state === 'payload' && length <= h.remaining) {
      // Frame boundaries survive a hole inside one payload.
      h.remaining -= length;
      if (h.frameType === FRAME_BODY) h.content.bodyGap(h.channel, length);
      else h.payloadLost = true;
      if (h.remaining === 0) h.state = 'frame-end';
      return;
    }
    this.anomaly(dir, ts, AmqpAnomaly.GAP_ACROSS_FRAMES, { length });
    this.stop(h);
  }

  end(dir: Direction, ts: Picos): void {
    const h = this.halves[dir];
    const open = h.content.openCount();
    if (h.state !== 'stopped' && (open > 0 || (h.state !== 'frame-header' && h.state !== 'start') || h.headerLen > 0)) {
      this.anomaly(dir, ts, AmqpAnomaly.CLOSED_IN_FRAME, { open });
    }
    this.stop(h);
  }

  private protocolHeader(dir: Direction, h: AmqpHalf, ts: Picos): void {
    for (let i = 0; i < 8; i++) {
      if (h.header[i] !== PROTOCOL_HEADER[i]) {
        this.anomaly(dir, ts, AmqpAnomaly.BAD_PROTOCOL_HEADER);
        this.stop(h);
        return;
      }
    }
    h.headerLen = 0;
    h.state = 'frame-header';
  }

  private frameHeader(h: AmqpHalf, ts: Picos): void {
    const b = h.header;
    h.frameType = b[0]!;
    h.channel = (b[1]! << 8) | b[2]!;
    h.size = ((b[3]! << 24) >>> 0) + ((b[4]! << 16) | (b[5]! << 8) | b[6]!);
    h.remaining = h.size;
    h.payload.clear();
    h.payloadLost = false;
    const dir: Direction = h === this.halves.c2s ? 'c2s' : 's2c';
    switch (h.frameType) {
      case FRAME_METHOD:
      case FRAME_HEADER:
        if (h.size > AMQP_LIMITS.maxFramePayload) {
          this.anomaly(dir, ts, AmqpAnomaly.FRAME_TOO_LARGE, { frameType: h.frameType, size: h.size, limit: AMQP_LIMITS.maxFramePayload });
          h.payloadLost = true;
        }
        break;
      case FRAME_BODY:
        h.content.bodyFrameStart(h.channel, h.size, ts);
        break;
      case FRAME_HEARTBEAT:
        if (h.channel !== 0 || h.size !== 0) this.anomaly(dir, ts, AmqpAnomaly.BAD_HEARTBEAT, { channel: h.channel, size: h.size });
        break;
      default:
        this.anomaly(dir, ts, AmqpAnomaly.UNKNOWN_FRAME_TYPE, { frameType: h.frameType });
        this.stop(h);
        return;
    }
    h.state = h.size === 0 ? 'frame-end' : 'payload';
  }

  private frameComplete(h: AmqpHalf, ts: Picos): void {
    switch (h.frameType) {
      case FRAME_METHOD:
      case FRAME_HEADER: {
        if (h.payloadLost) {
          h.content.frameLost(h.channel, h.frameType, ts);
          break;
        }
        const p = h.payload.view();
        if (h.frameType === FRAME_METHOD) h.content.methodFrame(h.channel, p, h.frameTs, ts);
        else h.content.headerFrame(h.channel, p, ts);
        break;
      }
      case FRAME_BODY:
        h.content.bodyFrameEnd(h.channel, ts);
        break;
      default:
        break; // heartbeat: nothing to do
    }
  }

  private stop(h: AmqpHalf): void {
    h.state = 'stopped';
    h.payload.clear();
    h.content.clear();
  }

  private emitMessage(dir: Direction, m: CompletedContent): void {
    const c2s = dir === 'c2s';
    const src = c2s ? this.flow.client : this.flow.server;
    const dst = c2s ? this.flow.server : this.flow.client;
    const msg: AmqpMessage = {
      protocol: 'amqp', kind: m.kind, ts: m.ts, tsEnd: m.tsEnd, flowId: this.flow.id, src, dst,
      channel: m.channel, exchange: m.exchange, routingKey: m.routingKey, bodySize: m.bodySize,
    };
    if (m.oslo !== undefined) msg.oslo = m.oslo;
    this.emit(msg);
  }

  private anomaly(dir: Direction, ts: Picos, def: AnomalyDef, fields?: AnomalyFields): void {
    this.emit(streamAnomaly(this.flow, dir, def, ts, fields));
  }
}
