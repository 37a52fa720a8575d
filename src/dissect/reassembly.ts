import type { PacketClock, Picos } from '../core/time.js';
import type { AnomalyDef } from '../core/anomaly.js';
import { DissectAnomaly } from './anomaly-codes.js';
import { HeldRange } from './held-range.js';
import { OffsetTree } from './offset-tree.js';

/**
 * TCP reassembly for one direction of one connection.
 *
 * Sequence numbers are turned into stream offsets (a JS number, exact to 2^53 bytes) by
 * the signed 32-bit distance to the next expected sequence number, so wrap-around at
 * 2^32 needs no special case. In-order segments (the common case) are handed to the
 * sink as the caller's view — no copy. Only out-of-order data is copied, into ranges
 * of held bytes ordered by offset (`OffsetTree`, O(log n) per segment whatever order an
 * attacker sends them in; adjacent ranges merge), bounded by a byte budget shared with
 * the other direction that counts the bookkeeping too, not only the payload.
 * Allocation per in-order segment: none here (the caller made the payload view).
 */
export interface ReassemblySink {
  deliver(bytes: Uint8Array, ts: Picos): void;
  /** In-order bytes buf[start, end) of the packet being handled (no view, no bigint made). */
  deliverAt(buf: Uint8Array, start: number, end: number, at: PacketClock): void;
  /**
   * `length` stream bytes will never be seen: lost (the tcp-hole anomaly is reported
   * separately), or cut by the capture's snaplen (reason GAP_SNAPLEN: they were on the
   * wire in a captured packet, not an anomaly, counted apart).
   */
  gap(length: number, ts: Picos, reason: AnomalyDef): void;
  anomaly(def: AnomalyDef, count: number, ts: Picos): void;
  /** All bytes up to the FIN were delivered (or declared holes). */
  end(ts: Picos): void;
}

/** Byte budget of one flow, shared by its two directions (memory-budget.ts: FlowBudget). */
export interface BufferBudget {
  readonly used: number;
  readonly max: number;
  charge(delta: number): void;
}

export const GAP_SNAPLEN = DissectAnomaly.TCP_HOLE_SNAPLEN;
export const GAP_LOST = DissectAnomaly.TCP_HOLE_LOST;
export const GAP_BOUND = DissectAnomaly.TCP_HOLE_BUFFER_BOUND;
export const GAP_END = DissectAnomaly.TCP_HOLE_AT_END;
const OVERLAP = DissectAnomaly.TCP_OVERLAP_MISMATCH;
const BOUND = DissectAnomaly.TCP_BUFFER_BOUND;
export const GAP_SHED = DissectAnomaly.TCP_HOLE_MEMORY_SHED;

/** ACKs further ahead than this are not trusted to declare a hole (garbage or a bad guess). */
const MAX_ACK_JUMP = 1 << 30;

/** Scratch list of [from, to) pairs for `insert` (one per process: insert does not re-enter). */
const GAPS: number[] = [];

export class StreamReassembler {
  initialized = false;
  /** Wire sequence number of the next expected byte (unsigned 32-bit). */
  nextSeq = 0;
  /** Stream offset of the next expected byte (= delivered + declared-hole bytes). */
  nextOff = 0;
  /** Stream offset of the FIN, once seen. */
  finOff = -1;
  ended = false;
  /** Counters for stats / cross-checks. */
  deliveredBytes = 0;
  holeBytes = 0;
  /** Of holeBytes, those never captured at all (the rest were cut by the snaplen). */
  lostBytes = 0;
  retransmissions = 0;
  /** Captured out-of-order bytes held now. */
  bufferedBytes = 0;
  /** What the held ranges cost the budget now (bookkeeping included). */
  heldCost = 0;
  private readonly held = new OffsetTree();

  constructor(private readonly sink: ReassemblySink, private readonly budget: BufferBudget) {}

  /** A SYN: the next byte is ISN + 1 at stream offset 0. */
  initFromSyn(isn: number): void {
    if (this.initialized) return;
    this.initialized = true;
    this.nextSeq = (isn + 1) >>> 0;
  }

  /** The stream offset of a sequence number (may be negative: before the next byte). */
  offsetOf(seq: number): number {
    return this.nextOff + ((seq - this.nextSeq) | 0);
  }

  /** Held out-of-order ranges (for tests and diagnostics). */
  get heldRanges(): number {
    return this.held.size;
  }

  /**
   * A segment with `wireLen` payload bytes starting at `seq`, of which the first `cap`
   * were captured, as buf[off, off + cap); `at` is the packet's time. In order (the common
   * case) the bytes go to the sink in place, and no bigint is made.
   */
  segmentAt(seq: number, buf: Uint8Array, off: number, cap: number, wireLen: number, at: PacketClock): void {
    if (this.ended || wireLen <= 0) return;
    if (!this.initialized) {
      // Mid-stream: the first data we see defines offset 0.
      this.initialized = true;
      this.nextSeq = seq >>> 0;
    }
    const start = this.offsetOf(seq);
    const end = start + wireLen;
    if (end <= this.nextOff) { this.retransmissions++; return; }
    if (this.held.size === 0 && start <= this.nextOff) {
      const skip = this.nextOff - start;
      if (skip < cap) {
        this.deliveredBytes += cap - skip;
        this.sink.deliverAt(buf, off + skip, off + cap, at);
      }
      const captured = start + cap > this.nextOff ? start + cap : this.nextOff;
      this.advance(end);
      if (captured < end) this.hole(end - captured, at.ts, GAP_SNAPLEN);
    } else {
      const ts = at.ts;
      this.insert(start, buf.subarray(off, off + cap), wireLen, ts);
      this.drain();
      this.enforceBudget(ts);
    }
    if (this.finOff >= 0) this.checkFin(at.ts);
  }

  /** FIN at `seq` (the sequence number after the segment's payload). */
  fin(seq: number, ts: Picos): void {
    if (this.ended) return;
    if (!this.initialized) { this.initialized = true; this.nextSeq = seq >>> 0; }
    if (this.finOff < 0) this.finOff = this.offsetOf(seq);
    this.checkFin(ts);
  }

  /** The peer acknowledged up to `ack` (at `at`): any byte before it that we lack will never come. */
  acked(ack: number, at: PacketClock): void {
    if (!this.initialized || this.ended) return;
    const d = (ack - this.nextSeq) | 0;
    if (d <= 0 || d > MAX_ACK_JUMP) return;
    const ts = at.ts;
    // A FIN occupies one sequence number past the data: don't count it as a byte.
    let target = this.nextOff + d;
    if (this.finOff >= 0 && target > this.finOff) target = this.finOff;
    this.skipTo(target, ts, GAP_LOST);
    this.checkFin(ts);
  }

  /** Connection over (RST, timeout, end of capture): deliver what we hold, declare the rest lost, end. */
  close(ts: Picos): void {
    if (this.ended) return;
    if (this.initialized) {
      const last = this.held.last();
      let target = last !== null ? last.end : this.nextOff;
      if (this.finOff > target) target = this.finOff;
      this.skipTo(target, ts, GAP_END);
    }
    this.finish(ts);
  }

  /**
   * Drops every held range (the memory budget needs the room): what they covered and
   * everything before becomes a hole, later bytes continue the stream. Returns the cost freed.
   */
  shed(ts: Picos): number {
    const last = this.held.last();
    if (last === null) return 0;
    const freed = this.heldCost;
    this.releaseAll();
    this.hole(last.end - this.nextOff, ts, GAP_SHED);
    this.advance(last.end);
    this.checkFin(ts);
    return freed;
  }

  private finish(ts: Picos): void {
    this.ended = true;
    this.releaseAll();
    this.sink.end(ts);
  }

  private checkFin(ts: Picos): void {
    if (this.finOff >= 0 && this.nextOff >= this.finOff && !this.ended) this.finish(ts);
  }

  private push(bytes: Uint8Array, ts: Picos): void {
    this.deliveredBytes += bytes.length;
    this.sink.deliver(bytes, ts);
  }

  private hole(length: number, ts: Picos, reason: AnomalyDef): void {
    this.holeBytes += length;
    if (reason !== GAP_SNAPLEN) {
      this.lostBytes += length;
      this.sink.anomaly(reason, length, ts);
    }
    this.sink.gap(length, ts, reason);
  }

  private advance(off: number): void {
    this.nextSeq = (this.nextSeq + (off - this.nextOff)) >>> 0;
    this.nextOff = off;
  }

  /**
   * Adds the parts of [start, start+wireLen) not already held, comparing overlaps.
   * Cost: O(log n) per held range the segment touches; a range it touches is at
   * least one of its bytes, so the whole is linear in the segment's length.
   */
  private insert(start: number, bytes: Uint8Array, wireLen: number, ts: Picos): void {
    const end = start + wireLen;
    const capEnd = start + bytes.length;
    let cursor = start > this.nextOff ? start : this.nextOff;
    let p = this.held.floor(cursor);
    if (p === null || p.end <= cursor) p = this.held.ceil(cursor);
    // The held ranges the segment overlaps, as numbers: adding the gaps merges ranges.
    const gaps = GAPS;
    gaps.length = 0;
    let overlapped = false;
    while (p !== null && p.start < end && cursor < end) {
      if (p.start > cursor) { gaps.push(cursor, p.start); cursor = p.start; }
      const ovEnd = p.end < end ? p.end : end;
      if (!overlapped && p.buf !== null) {
        const cmpEnd = ovEnd < capEnd ? ovEnd : capEnd;
        for (let o = cursor; o < cmpEnd; o++) {
          if (bytes[o - start] !== p.byteAt(o)) { overlapped = true; break; }
        }
      }
      cursor = ovEnd;
      p = this.held.ceil(p.end);
    }
    if (cursor < end) gaps.push(cursor, end);
    for (let i = 0; i < gaps.length; i += 2) {
      const a = gaps[i]!;
      const b = gaps[i + 1]!;
      const dataEnd = capEnd < b ? capEnd : b;
      if (dataEnd > a) this.add(a, dataEnd, bytes.subarray(a - start, dataEnd - start), ts);
      const cutStart = dataEnd > a ? dataEnd : a;
      if (b > cutStart) this.add(cutStart, b, null, ts);
    }
    if (overlapped) this.sink.anomaly(OVERLAP, 1, ts);
  }

  /** Holds [a, b) (`data` its captured bytes, or null for a cut), merged with same-kind neighbours. */
  private add(a: number, b: number, data: Uint8Array | null, ts: Picos): void {
    const len = b - a;
    let pred = this.held.floor(a);
    if (pred !== null && (pred.end !== a || (pred.buf === null) !== (data === null))) pred = null;
    let succ = this.held.ceil(b);
    if (succ !== null && (succ.start !== b || (succ.buf === null) !== (data === null))) succ = null;
    if (data !== null) this.bufferedBytes += len;
    if (pred === null && succ === null) {
      const r = new HeldRange(a, b, data !== null ? data.slice() : null, ts);
      this.held.insert(r);
      this.charge(r.cost);
      return;
    }
    if (pred !== null) {
      pred.append(data, len, ts);
      if (succ !== null) this.mergeNeighbours(pred, succ);
      else this.charge(pred.remeasure());
      return;
    }
    succ!.prepend(data, len, ts);
    this.charge(succ!.remeasure());
  }

  /** `left` now ends where `right` starts: one range, copying the smaller into the larger. */
  private mergeNeighbours(left: HeldRange, right: HeldRange): void {
    if (left.length >= right.length) {
      this.held.remove(right);
      left.appendRange(right);
      this.charge(left.remeasure() - right.cost);
    } else {
      this.held.remove(left);
      right.prependRange(left);
      this.charge(right.remeasure() - left.cost);
    }
  }

  private charge(delta: number): void {
    this.heldCost += delta;
    this.budget.charge(delta);
  }

  /** Deliver ranges that are now in order. */
  private drain(): void {
    for (let r = this.held.first(); r !== null && r.start <= this.nextOff; r = this.held.first()) {
      this.held.remove(r);
      this.charge(-r.cost);
      if (r.buf !== null) this.bufferedBytes -= r.length;
      if (r.end <= this.nextOff) continue;
      const skip = this.nextOff - r.start;
      const bytes = r.buf !== null ? r.bytes() : null;
      let off = 0;
      for (let i = 0, n = r.runs; i < n; i++) {
        const len = r.runLength(i);
        const from = off > skip ? off : skip;
        if (from < off + len) {
          if (bytes !== null) this.push(bytes.subarray(from, off + len), r.runTs(i));
          else this.hole(off + len - from, r.runTs(i), GAP_SNAPLEN);
        }
        off += len;
      }
      this.advance(r.end);
    }
  }

  /** Declare everything before `target` that we do not hold a hole, delivering what we hold. */
  private skipTo(target: number, ts: Picos, reason: AnomalyDef): void {
    while (this.nextOff < target) {
      const first = this.held.first();
      const holeEnd = first !== null && first.start < target ? first.start : target;
      if (holeEnd > this.nextOff) {
        this.hole(holeEnd - this.nextOff, ts, reason);
        this.advance(holeEnd);
      }
      this.drain();
    }
  }

  private enforceBudget(ts: Picos): void {
    while (this.budget.used > this.budget.max && this.held.size > 0) {
      this.sink.anomaly(BOUND, 1, ts);
      this.skipTo(this.held.first()!.start, ts, GAP_BOUND);
      this.drain();
    }
  }

  private releaseAll(): void {
    this.held.clear(() => {});
    this.budget.charge(-this.heldCost);
    this.heldCost = 0;
    this.bufferedBytes = 0;
  }
}
