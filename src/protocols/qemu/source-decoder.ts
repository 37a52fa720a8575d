import type { PacketClock, Picos } from '../../core/time.js';
import type { AnomalyDef, AnomalyFields } from '../../core/anomaly.js';
import type { Direction, Endpoint, FlowInfo } from '../../decode/types.js';
import { streamAnomaly } from '../anomaly.js';
import type { Emit, GapKind, ProtocolMessage, QemuMessage, StreamDecoder } from '../types.js';
import { ByteFeeder, STOP } from './feeder.js';

/** A QEMU message body: what a decoder fills in; the envelope comes from the flow. */
export type QemuBody = DistributiveOmit<QemuMessage>;
type DistributiveOmit<T> = T extends unknown ? Omit<T, 'protocol' | 'ts' | 'tsEnd' | 'flowId' | 'src' | 'dst'> : never;

/**
 * What the main stream's and the multifd channels' decoders share: a step parser over
 * the source's bytes (a ByteFeeder), the flow's endpoints, and the rule that a stream
 * without resync points stops at its first error, reported once as an anomaly.
 */
export abstract class SourceStreamDecoder implements StreamDecoder {
  protected readonly feeder: ByteFeeder;
  protected dead = false;
  protected readonly src: Endpoint;
  protected readonly dst: Endpoint;

  constructor(protected readonly flow: FlowInfo, protected readonly emit: Emit, maxItem: number) {
    this.feeder = new ByteFeeder((b, p, e, at) => this.stepAt(b, p, e, at), maxItem);
    this.src = flow.client;
    this.dst = flow.server;
  }

  abstract data(dir: Direction, bytes: Uint8Array, ts: Picos): void;
  abstract gap(dir: Direction, length: number, ts: Picos, kind?: GapKind): void;
  abstract end(dir: Direction, ts: Picos): void;

  /**
   * data() over buf[start, end), the time a clock (StreamDecoder.dataAt): a segment
   * inside page data costs a subtraction (ByteFeeder.skip), a page header its
   * arithmetic, and a bigint is made only when a message is.
   */
  abstract dataAt(dir: Direction, buf: Uint8Array, start: number, end: number, at: PacketClock): void;

  /** Parses one item at b[p..end): bytes consumed, NEED_MORE or STOP (see ByteFeeder). */
  protected abstract step(b: Uint8Array, p: number, end: number, ts: Picos): number;

  /** step() with the segment's clock; a decoder whose frequent items make no message overrides it. */
  protected stepAt(b: Uint8Array, p: number, end: number, at: PacketClock): number {
    return this.step(b, p, end, at.ts);
  }

  /** Is there source data to walk? (not from the destination, not empty, the walk not given up) */
  protected walkable(dir: Direction, bytes: Uint8Array): boolean {
    return dir === 'c2s' && !this.dead && bytes.length > 0;
  }

  /** Walks the source's bytes; a walk the feeder had to stop (no progress, an item too large) is reported as `stalled`. */
  protected walk(bytes: Uint8Array, ts: Picos, stalled: AnomalyDef, fields?: AnomalyFields): void {
    this.feeder.feed(bytes, ts);
    if (this.feeder.stopped && !this.dead) this.fail(stalled, ts, fields);
  }

  /** walk() over buf[start, end) at `at`. */
  protected walkAt(buf: Uint8Array, start: number, end: number, at: PacketClock, stalled: AnomalyDef, fields?: AnomalyFields): void {
    this.feeder.feedAt(buf, start, end, at);
    if (this.feeder.stopped && !this.dead) this.fail(stalled, at.ts, fields);
  }

  protected out(m: QemuBody, ts: Picos, tsEnd: Picos = ts): void {
    this.emit({ ...m, protocol: 'qemu', ts, tsEnd, flowId: this.flow.id, src: this.src, dst: this.dst } as ProtocolMessage);
  }

  /** The stream has no resync point: report and stop walking it. */
  protected fail(def: AnomalyDef, ts: Picos, fields?: AnomalyFields): number {
    this.emit(streamAnomaly(this.flow, 'c2s', def, ts, fields));
    this.dead = true;
    return STOP;
  }
}
