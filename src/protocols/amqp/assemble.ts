import type { Picos } from '../../core/time.js';
import { ByteAccumulator } from '../byte-accumulator.js';
import type { AnomalyDef, AnomalyFields } from '../../core/anomaly.js';
import { AmqpAnomaly } from './anomaly-codes.js';
import { decodeContentHeader } from './content.js';
import {
  BASIC_DELIVER, BASIC_GET_OK, BASIC_PUBLISH, BASIC_RETURN, CHANNEL_CLOSE, CHANNEL_CLOSE_OK, CONNECTION_CLOSE,
  decodeMethod,
} from './methods.js';
import { decodeOsloBody } from './oslo.js';
import { AMQP_LIMITS, type CompletedContent } from './types.js';

/** A content-carrying method waiting for its header and body frames. */
interface Assembly {
  /** basic.return content is consumed but not a message we report. */
  kind: 'publish' | 'deliver' | 'return';
  channel: number;
  exchange: string;
  routingKey: string;
  ts: Picos;
  phase: 'header' | 'body';
  bodySize: number;
  received: number;
  body: ByteAccumulator | null;
  /** Body bytes were lost in a capture gap: the envelope cannot be read. */
  lost: boolean;
}

type Report = (def: AnomalyDef, ts: Picos, fields?: AnomalyFields) => void;

/**
 * Per-channel assembly of method + content header + body frames (AMQP 0-9-1 §4.2.6:
 * frames of one message are contiguous on their channel, channels interleave).
 */
export class ContentAssembler {
  private readonly channels = new Map<number, Assembly>();
  /** The assembly the body frame being read belongs to (null: ignore its bytes). */
  private current: Assembly | null = null;
  /** Body bytes currently reserved across channels (bounded by maxBodiesPerDirection). */
  private reserved = 0;

  /** Bytes this assembler may hold now: the reserved bodies (an upper bound) and the channel records. */
  get heldBytes(): number {
    return this.reserved + this.channels.size * 200;
  }

  constructor(private readonly report: Report, private readonly complete: (m: CompletedContent) => void) {}

  openCount(): number {
    return this.channels.size;
  }

  clear(): void {
    this.channels.clear();
    this.current = null;
    this.reserved = 0;
  }

  methodFrame(channel: number, payload: Uint8Array, frameTs: Picos, ts: Picos): void {
    const res = decodeMethod(payload, 0, payload.length);
    const open = this.channels.get(channel);
    if (open !== undefined) {
      this.report(AmqpAnomaly.METHOD_INTERRUPTS_MESSAGE, ts, { channel });
      this.drop(open);
    }
    if (!res.ok) {
      this.report(res.problem.def, ts, res.problem.fields);
      return;
    }
    const { args } = res.method;
    const s = (i: number): string => (typeof args[i] === 'string' ? (args[i] as string) : '');
    switch (res.method.classId * 65536 + res.method.methodId) {
      case BASIC_PUBLISH: this.begin('publish', channel, s(1), s(2), frameTs); break;
      case BASIC_DELIVER: this.begin('deliver', channel, s(3), s(4), frameTs); break;
      case BASIC_GET_OK: this.begin('deliver', channel, s(2), s(3), frameTs); break;
      case BASIC_RETURN: this.begin('return', channel, s(2), s(3), frameTs); break;
      case CONNECTION_CLOSE: this.clear(); break;
      case CHANNEL_CLOSE: case CHANNEL_CLOSE_OK: break; // any open message was dropped above
      default: break;
    }
  }

  headerFrame(channel: number, payload: Uint8Array, ts: Picos): void {
    const a = this.channels.get(channel);
    if (a === undefined || a.phase !== 'header') {
      this.report(AmqpAnomaly.HEADER_WITHOUT_METHOD, ts, { channel });
      if (a !== undefined) this.drop(a);
      return;
    }
    const res = decodeContentHeader(payload, 0, payload.length);
    if (!res.ok) {
      this.report(res.problem.def, ts, res.problem.fields);
      this.drop(a);
      return;
    }
    a.bodySize = res.header.bodySize;
    if (a.bodySize === 0) {
      this.finish(a, ts);
      return;
    }
    a.phase = 'body';
    if (a.bodySize > AMQP_LIMITS.maxBody) return; // counted by bodySize, bytes skipped
    if (this.reserved + a.bodySize > AMQP_LIMITS.maxBodiesPerDirection) {
      this.report(AmqpAnomaly.BODY_OVER_BUDGET, ts, { channel, limit: AMQP_LIMITS.maxBodiesPerDirection });
      return;
    }
    this.reserved += a.bodySize;
    a.body = new ByteAccumulator(a.bodySize, Math.min(a.bodySize, 4096));
  }

  bodyFrameStart(channel: number, size: number, ts: Picos): void {
    const a = this.channels.get(channel);
    this.current = null;
    if (a === undefined || a.phase !== 'body') {
      this.report(AmqpAnomaly.BODY_WITHOUT_HEADER, ts, { channel });
      if (a !== undefined) this.drop(a);
      return;
    }
    if (a.received + size > a.bodySize) {
      this.report(AmqpAnomaly.BODY_EXCEEDS_SIZE, ts, { channel, bodySize: a.bodySize });
      this.drop(a);
      return;
    }
    this.current = a;
  }

  bodyBytes(_channel: number, bytes: Uint8Array, start: number, end: number, _ts: Picos): void {
    const a = this.current;
    if (a === null) return;
    a.received += end - start;
    if (a.body !== null) a.body.append(bytes, start, end);
  }

  bodyGap(_channel: number, length: number): void {
    const a = this.current;
    if (a === null) return;
    a.received += length;
    a.lost = true;
    this.release(a);
  }

  bodyFrameEnd(_channel: number, ts: Picos): void {
    const a = this.current;
    this.current = null;
    if (a !== null && a.received === a.bodySize) this.finish(a, ts);
  }

  /** A method or header frame whose payload we could not hold or lost in a gap. */
  frameLost(channel: number, frameType: number, ts: Picos): void {
    this.report(AmqpAnomaly.FRAME_NOT_DECODED, ts, { channel, frameType });
    const a = this.channels.get(channel);
    if (a !== undefined) this.drop(a);
  }

  private begin(kind: Assembly['kind'], channel: number, exchange: string, routingKey: string, ts: Picos): void {
    this.channels.set(channel, {
      kind, channel, exchange, routingKey, ts, phase: 'header', bodySize: 0, received: 0, body: null, lost: false,
    });
  }

  private finish(a: Assembly, tsEnd: Picos): void {
    const oslo = a.body !== null && !a.lost ? decodeOsloBody(a.body.view()) : undefined;
    this.drop(a);
    if (a.kind === 'return') return;
    this.complete({
      kind: a.kind, channel: a.channel, exchange: a.exchange, routingKey: a.routingKey,
      bodySize: a.bodySize, ts: a.ts, tsEnd, oslo,
    });
  }

  private release(a: Assembly): void {
    if (a.body !== null) {
      this.reserved -= a.bodySize;
      a.body = null;
    }
  }

  private drop(a: Assembly): void {
    this.release(a);
    this.channels.delete(a.channel);
    if (this.current === a) this.current = null;
  }
}
