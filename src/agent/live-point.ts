import { createHash } from 'node:crypto';
import type { Picos } from '../core/time.js';
import type { ProtocolMessage } from '../protocols/types.js';
import { contentKey } from './dedupe.js';
import { MpRecordWriter } from './record-writer.js';
import type { MpRecord } from './records.js';

export interface LiveMeasurementPointOptions {
  /** Sequence number before the first record (the MP's numbering goes on from the stream). */
  firstSeq?: number;
  /**
   * How far an idle MP's watermark trails its capture clock, ps (default 1 s): the
   * longest a packet may take from the wire to a decoded message (kernel and ring
   * buffers, the decode workers, a DPMI MP's frame packing).
   */
  lag?: Picos;
  /** Sightings per record (default 256). */
  sightingsPerRecord?: number;
  /** Content keys whose occurrence count is kept (default 100 000; past it the oldest are forgotten). */
  maxKeys?: number;
  /** Wall clock, ms since the epoch with sub-ms digits (tests fake it). */
  wallMs?: () => number;
}

const PS_PER_MS = 1_000_000_000n;

/** Wall-clock milliseconds since the epoch, monotonic within the process. */
const wallClock = (): number => performance.timeOrigin + performance.now();

/**
 * One measurement point on a live source. The capture pipeline (`analyzeSources` of an
 * `iface:` or `dpmi-iface:` source, decode workers behind the native ring) hands over
 * protocol messages, not packets; this turns them into the MP's numbered records:
 *
 * - `msg` with `wire` = the message's last packet time, never below an earlier record's
 *   (`raised` counts the messages that came later than a watermark already published);
 * - `seg` sightings of the messages themselves: the n-th message of a given content is
 *   one event on the wire, seen by every MP on its path at its own clock — the same
 *   pairing the packet sightings of file MPs give, for the clock-offset estimator;
 * - `hb` on a timer, whose watermark advances with the wall clock when the source is
 *   idle: from the newest message's time plus the wall time since it arrived (before
 *   the first one, the host clock), minus `lag`. An idle MP so stops holding the merge
 *   back after `lag`, as a busy one does with its messages.
 */
export class LiveMeasurementPoint {
  private readonly records: MpRecordWriter;
  /** Floor of the next record's wire time: everything below it is published. */
  private floor: Picos = -1n;
  /** Newest message time and the wall clock when it arrived. */
  private anchor: { ts: Picos; wallMs: number } | undefined;
  private readonly occurrences = new Map<string, number>();
  private readonly lag: Picos;
  private readonly maxKeys: number;
  private readonly wallMs: () => number;
  readonly counts = { messages: 0, raised: 0, sightings: 0 };

  constructor(readonly mp: string, out: (r: MpRecord) => void, opts: LiveMeasurementPointOptions = {}) {
    this.records = new MpRecordWriter(mp, out, opts.firstSeq ?? 0, opts.sightingsPerRecord ?? 256);
    this.lag = opts.lag ?? 1000n * PS_PER_MS;
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.wallMs = opts.wallMs ?? wallClock;
  }

  get lastSeq(): number {
    return this.records.lastSeq;
  }

  message(msg: ProtocolMessage): void {
    this.counts.messages++;
    const t = msg.tsEnd > msg.ts ? msg.tsEnd : msg.ts;
    if (this.anchor === undefined || t > this.anchor.ts) this.anchor = { ts: t, wallMs: this.wallMs() };
    let wire = t;
    if (wire < this.floor) {
      this.counts.raised++;
      wire = this.floor;
    }
    this.floor = wire;
    this.sight(msg);
    this.records.emit({ t: 'msg', mp: this.mp, seq: 0, wire, msg });
  }

  /** The watermark now: the sightings so far, then a heartbeat. */
  heartbeat(): void {
    this.records.flushSightings();
    const now = this.wallMs();
    const clock = this.anchor
      ? this.anchor.ts + BigInt(Math.round((now - this.anchor.wallMs) * 1e6)) * 1000n
      : BigInt(Math.round(now * 1e6)) * 1000n;
    const w = clock - this.lag;
    if (w > this.floor) this.floor = w;
    this.records.emit({ t: 'hb', mp: this.mp, seq: 0, watermark: this.floor });
  }

  /** The source stopped: the rest of the sightings and the end record. */
  finish(): void {
    this.records.flushSightings();
    this.records.emit({ t: 'end', mp: this.mp, seq: 0, watermark: this.floor });
  }

  private sight(msg: ProtocolMessage): void {
    // Windowed counts, not one event on the wire.
    if (msg.protocol === 'anomaly' || msg.src.ip === '' || msg.dst.ip === '') return;
    // A digest keeps records small whatever the message carries (bodies, long names).
    const content = createHash('sha1').update(contentKey(msg)).digest('base64');
    const n = (this.occurrences.get(content) ?? 0) + 1;
    this.occurrences.delete(content);
    this.occurrences.set(content, n);
    if (this.occurrences.size > this.maxKeys) this.occurrences.delete(this.occurrences.keys().next().value!);
    this.counts.sightings++;
    this.records.sight({ key: `m/${n}/${content}`, ts: msg.ts, src: msg.src.ip, dst: msg.dst.ip });
  }
}
