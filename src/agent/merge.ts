import type { Picos } from '../core/time.js';
import type { ProtocolMessage } from '../protocols/types.js';
import { ClockOffsetEstimator, type ClockOffset, type ClockOffsetOptions } from './clock-offset.js';
import { Deduplicator } from './dedupe.js';
import { FlowIdMap } from './flow-ids.js';
import type { MessageRecord, MpRecord } from './records.js';

export interface MergeOptions extends ClockOffsetOptions {
  /** The MP whose clock the others are measured against (default: the first MP met). */
  reference?: string;
  /** Shift every MP's timestamps by its estimated offset (`--correct-clocks`). */
  correctClocks?: boolean;
  /** MPs to wait for before anything is released, even before their first record. */
  expect?: readonly string[];
  /**
   * Messages held while waiting for a first offset estimate of every MP (with
   * correctClocks) or for a lagging MP; past it the oldest are released as they are
   * (counted). Default 200 000.
   */
  maxHeld?: number;
  /** Out-of-order records kept per MP while a gap in its sequence is open. Default 10 000. */
  maxReorder?: number;
}

/** Per measurement point: its sequence, queue of messages and watermark. */
interface MpState {
  name: string;
  nextSeq: number;
  early: Map<number, MpRecord>;
  queue: MessageRecord[];
  head: number;
  watermark: Picos;
  ended: boolean;
  silent: boolean;
  /** It has sent a message (an MP that has not needs no offset yet: an idle live MP). */
  hasMessages: boolean;
  offset: ClockOffset | undefined;
}

export interface MergeCounts {
  records: number;
  /** Records received twice (a resend, a redelivery): dropped. */
  duplicateRecords: number;
  /** Sequence numbers never received, skipped when the reorder bound was hit. */
  lostRecords: number;
  /** Messages both MPs saw, delivered once. */
  duplicateMessages: number;
  /** Messages released before every MP had an offset estimate (maxHeld reached). */
  uncorrected: number;
  /** Messages from an MP that came back after it was marked silent, behind the merge. */
  late: number;
  delivered: number;
}

export type DeliverFn = (msg: ProtocolMessage, mp: string) => void;

/**
 * The aggregator's core, free of NATS: records of any number of MPs in, one stream of
 * protocol messages out, ordered by (corrected) wire time. A message is released once
 * every live MP's watermark has passed it, so the phase engine sees the MPs' messages
 * interleaved as one capture of all links would have shown them; a duplicate (seen by
 * two MPs) is dropped, flow ids are unified, and with correctClocks each MP's times are
 * shifted onto the reference clock.
 */
export class MpMerger {
  readonly counts: MergeCounts = {
    records: 0, duplicateRecords: 0, lostRecords: 0, duplicateMessages: 0, uncorrected: 0, late: 0, delivered: 0,
  };
  private readonly mps = new Map<string, MpState>();
  private readonly dedupe = new Deduplicator();
  private readonly flows = new FlowIdMap();
  private readonly maxHeld: number;
  private readonly maxReorder: number;
  private reference: string | undefined;
  private held = 0;
  private released: Picos = 0n;
  private est: ClockOffsetEstimator | undefined;
  /** Samples per MP since its offset was last reported. */
  private readonly sinceReport = new Map<string, number>();
  /** MPs whose end record was applied, reported once their messages are released. */
  private justEnded: string[] = [];

  constructor(
    private readonly deliver: DeliverFn,
    private readonly onOffset: (o: ClockOffset) => void,
    private readonly opts: MergeOptions = {},
    /** An MP's end record (its source is exhausted), after what it released. */
    private readonly onEnded: (mp: string) => void = () => {},
  ) {
    this.maxHeld = opts.maxHeld ?? 200_000;
    this.maxReorder = opts.maxReorder ?? 10_000;
    this.reference = opts.reference;
    if (this.reference !== undefined) this.est = new ClockOffsetEstimator(this.reference, opts);
    for (const mp of opts.expect ?? []) this.state(mp);
  }

  /** The offsets known now, one per non-reference MP with an estimate. */
  offsets(): ClockOffset[] {
    return [...this.mps.values()].flatMap((s) => (s.offset ? [s.offset] : []));
  }

  /** Marker MP's offset for error bounds (reference and unknown: undefined). */
  offsetOf(mp: string): ClockOffset | undefined {
    return this.mps.get(mp)?.offset;
  }

  get estimator(): ClockOffsetEstimator | undefined {
    return this.est;
  }

  /** Wire time (reference clock) of the last message released. */
  get releasedUpTo(): Picos {
    return this.released;
  }

  get referenceMp(): string | undefined {
    return this.reference;
  }

  record(r: MpRecord): void {
    this.counts.records++;
    const s = this.state(r.mp);
    if (r.seq < s.nextSeq || s.early.has(r.seq)) { this.counts.duplicateRecords++; return; }
    if (r.seq > s.nextSeq) {
      s.early.set(r.seq, r);
      if (s.early.size > this.maxReorder) this.skipGap(s);
    } else this.apply(s, r);
    for (let n = s.early.get(s.nextSeq); n !== undefined; n = s.early.get(s.nextSeq)) {
      s.early.delete(n.seq);
      this.apply(s, n);
    }
    this.release(false);
    if (this.justEnded.length > 0) {
      const ended = this.justEnded;
      this.justEnded = [];
      for (const mp of ended) this.onEnded(mp);
    }
  }

  /** Whether the MP's last record is its end record. */
  hasEnded(mp: string): boolean {
    return this.mps.get(mp)?.ended === true;
  }

  /** Every MP met (and expected) has sent its end record. */
  allEnded(): boolean {
    if (this.mps.size === 0) return false;
    for (const s of this.mps.values()) if (!s.ended || s.early.size > 0) return false;
    return true;
  }

  /** An MP stopped reporting (wall-clock timeout): it no longer holds the others back. */
  silent(mp: string): void {
    const s = this.mps.get(mp);
    if (s === undefined || s.silent || s.ended) return;
    s.silent = true;
    this.release(false);
  }

  /** End of input: everything held is released in order. */
  finish(): void {
    for (const s of this.mps.values()) {
      while (s.early.size > 0) this.skipGap(s);
    }
    this.release(true);
  }

  private state(mp: string): MpState {
    let s = this.mps.get(mp);
    if (s === undefined) {
      s = {
        name: mp, nextSeq: 1, early: new Map(), queue: [], head: 0,
        watermark: -1n, ended: false, silent: false, hasMessages: false, offset: undefined,
      };
      this.mps.set(mp, s);
      if (this.reference === undefined) {
        this.reference = mp;
        this.est = new ClockOffsetEstimator(mp, this.opts);
      }
    }
    return s;
  }

  /** The reorder bound was hit: the missing records are given up, counted. */
  private skipGap(s: MpState): void {
    const next = Math.min(...s.early.keys());
    this.counts.lostRecords += next - s.nextSeq;
    s.nextSeq = next;
    for (let n = s.early.get(s.nextSeq); n !== undefined; n = s.early.get(s.nextSeq)) {
      s.early.delete(n.seq);
      this.apply(s, n);
    }
  }

  private apply(s: MpState, r: MpRecord): void {
    s.nextSeq = r.seq + 1;
    if (s.silent) s.silent = false;
    // A new run of an MP that had ended continues its sequence.
    if (r.t !== 'end') s.ended = false;
    switch (r.t) {
      case 'msg':
        s.hasMessages = true;
        s.queue.push(r);
        this.held++;
        // Later messages of this MP have wire ≥ this one: it is a watermark (exclusive).
        if (r.wire - 1n > s.watermark) s.watermark = r.wire - 1n;
        break;
      case 'seg': {
        const est = this.est!;
        for (const sg of r.sightings) {
          const grown = est.sight(r.mp, sg);
          if (grown !== undefined) this.refreshOffset(grown);
        }
        break;
      }
      case 'hb':
        if (r.watermark > s.watermark) s.watermark = r.watermark;
        break;
      case 'end':
        if (r.watermark > s.watermark) s.watermark = r.watermark;
        s.ended = true;
        this.justEnded.push(s.name);
        break;
    }
  }

  /** New estimate for `mp`; reported when first known and then every 64 samples. */
  private refreshOffset(mp: string): void {
    const n = (this.sinceReport.get(mp) ?? 64) + 1;
    this.sinceReport.set(mp, n);
    const s = this.mps.get(mp);
    if (s === undefined) return;
    const first = s.offset === undefined;
    if (!first && n < 64) return;
    const o = this.est!.estimate(mp);
    if (o === undefined) return;
    s.offset = o;
    this.sinceReport.set(mp, 0);
    this.onOffset(o);
  }

  private shift(s: MpState): Picos {
    return this.opts.correctClocks && s.offset ? s.offset.offset : 0n;
  }

  /** Waiting for a first offset of some live MP that has messages (correctClocks only). */
  private awaitingOffsets(): boolean {
    if (!this.opts.correctClocks) return false;
    for (const s of this.mps.values()) {
      if (s.name !== this.reference && s.hasMessages && s.offset === undefined && !s.ended && !s.silent) return true;
    }
    return false;
  }

  private release(all: boolean): void {
    const states = [...this.mps.values()];
    let forced = all || this.held > this.maxHeld;
    if (!forced && this.awaitingOffsets()) return;
    for (;;) {
      // Release limit: the lowest corrected watermark of the MPs still expected to send.
      let limit: Picos | undefined;
      if (!forced) {
        for (const s of states) {
          if (s.ended || s.silent) continue;
          const w = s.watermark - this.shift(s);
          if (limit === undefined || w < limit) limit = w;
        }
      }
      // Earliest queue head; on a tie the MP met first (Map order), so the merge is stable.
      let best: MpState | undefined;
      let bestTs = 0n;
      for (const s of states) {
        if (s.head >= s.queue.length) continue;
        const ts = s.queue[s.head]!.wire - this.shift(s);
        if (best === undefined || ts < bestTs) { best = s; bestTs = ts; }
      }
      if (best === undefined) return;
      if (limit !== undefined && bestTs > limit) {
        if (this.held <= this.maxHeld) return;
        forced = true;
      }
      const r = best.queue[best.head]!;
      best.queue[best.head++] = undefined as unknown as MessageRecord;
      if (best.head > 4096 && best.head * 2 > best.queue.length) { best.queue.splice(0, best.head); best.head = 0; }
      this.held--;
      if (forced && !all) forced = this.held > this.maxHeld;
      this.emit(best, r, bestTs);
    }
  }

  private emit(s: MpState, r: MessageRecord, ts: Picos): void {
    if (!this.dedupe.admit(s.name, r.msg, ts)) { this.counts.duplicateMessages++; return; }
    if (ts < this.released) this.counts.late++;
    else this.released = ts;
    if (this.opts.correctClocks && s.name !== this.reference && s.offset === undefined) this.counts.uncorrected++;
    const shift = this.shift(s);
    const flowId = this.flows.map(s.name, r.msg);
    let msg = r.msg;
    if (shift !== 0n || flowId !== msg.flowId) msg = shifted(msg, shift, flowId);
    this.counts.delivered++;
    this.deliver(msg, s.name);
  }
}

/** A copy of `msg` on the reference clock and the merged flow numbering. */
function shifted(msg: ProtocolMessage, by: Picos, flowId: number): ProtocolMessage {
  const out = { ...msg, ts: msg.ts - by, tsEnd: msg.tsEnd - by, flowId } as ProtocolMessage & { requestTs?: Picos; callTs?: Picos };
  if (out.requestTs !== undefined) out.requestTs -= by;
  if (out.callTs !== undefined) out.callTs -= by;
  return out;
}
