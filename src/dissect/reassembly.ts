import type { Picos } from '../core/time.js';
import type { AnomalyKind } from '../protocols/types.js';

/**
 * TCP reassembly for one direction of one connection.
 *
 * Sequence numbers are turned into stream offsets (a JS number, exact to 2^53 bytes) by
 * the signed 32-bit distance to the next expected sequence number, so wrap-around at
 * 2^32 needs no special case. In-order segments (the common case) are handed to the
 * sink as the caller's view — no copy. Only out-of-order data is copied, into a list of
 * non-overlapping pieces sorted by offset, bounded by a byte budget shared with the
 * other direction.
 * Allocation per in-order segment: none here (the caller made the payload view).
 */
export interface ReassemblySink {
  deliver(bytes: Uint8Array, ts: Picos): void;
  /**
   * `length` stream bytes will never be seen: lost (the tcp-hole anomaly is reported
   * separately), or `cut` by the capture's snaplen (they were on the wire in a captured
   * packet: not an anomaly, counted apart).
   */
  gap(length: number, ts: Picos, reason: string, cut: boolean): void;
  anomaly(kind: AnomalyKind, reason: string, count: number, ts: Picos): void;
  /** All bytes up to the FIN were delivered (or declared holes). */
  end(ts: Picos): void;
}

/** Byte budget of one flow, shared by its two directions. */
export interface BufferBudget {
  used: number;
  readonly max: number;
}

interface Piece {
  off: number;
  len: number;
  /** Captured bytes (a private copy), or null for bytes the snaplen cut off. */
  data: Uint8Array | null;
  ts: Picos;
}

export const GAP_SNAPLEN = 'bytes cut by capture snaplen';
export const GAP_LOST = 'segment never captured (peer acknowledged past it)';
export const GAP_BOUND = 'out-of-order buffer bound passed';
export const GAP_END = 'segment missing at connection end';
const OVERLAP = 'retransmission disagrees with earlier data';
const BOUND = 'out-of-order buffer bound passed: skipped ahead';

/** ACKs further ahead than this are not trusted to declare a hole (garbage or a bad guess). */
const MAX_ACK_JUMP = 1 << 30;

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
  private pieces: Piece[] = [];

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

  /**
   * A segment with `wireLen` payload bytes starting at `seq`, of which the first
   * `bytes.length` were captured.
   */
  segment(seq: number, bytes: Uint8Array, wireLen: number, ts: Picos): void {
    if (this.ended || wireLen <= 0) return;
    if (!this.initialized) {
      // Mid-stream: the first data we see defines offset 0.
      this.initialized = true;
      this.nextSeq = seq >>> 0;
    }
    const start = this.offsetOf(seq);
    const end = start + wireLen;
    if (end <= this.nextOff) { this.retransmissions++; return; }
    if (this.pieces.length === 0 && start <= this.nextOff) {
      const skip = this.nextOff - start;
      const cap = bytes.length;
      if (skip < cap) this.push(skip === 0 ? bytes : bytes.subarray(skip), ts);
      const captured = start + cap > this.nextOff ? start + cap : this.nextOff;
      this.advance(end);
      if (captured < end) this.hole(end - captured, ts, GAP_SNAPLEN);
    } else {
      this.insert(start, bytes, wireLen, ts);
      this.drain();
      this.enforceBudget(ts);
    }
    this.checkFin(ts);
  }

  /** FIN at `seq` (the sequence number after the segment's payload). */
  fin(seq: number, ts: Picos): void {
    if (this.ended) return;
    if (!this.initialized) { this.initialized = true; this.nextSeq = seq >>> 0; }
    if (this.finOff < 0) this.finOff = this.offsetOf(seq);
    this.checkFin(ts);
  }

  /** The peer acknowledged up to `ack`: any byte before it that we lack will never come. */
  acked(ack: number, ts: Picos): void {
    if (!this.initialized || this.ended) return;
    const d = (ack - this.nextSeq) | 0;
    if (d <= 0 || d > MAX_ACK_JUMP) return;
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
      const last = this.pieces.length > 0 ? this.pieces[this.pieces.length - 1]! : null;
      let target = last !== null ? last.off + last.len : this.nextOff;
      if (this.finOff > target) target = this.finOff;
      this.skipTo(target, ts, GAP_END);
    }
    this.finish(ts);
  }

  get bufferedBytes(): number {
    let n = 0;
    for (const p of this.pieces) n += p.data !== null ? p.data.length : 0;
    return n;
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

  private hole(length: number, ts: Picos, reason: string): void {
    this.holeBytes += length;
    const cut = reason === GAP_SNAPLEN;
    if (!cut) {
      this.lostBytes += length;
      this.sink.anomaly('tcp-hole', reason, length, ts);
    }
    this.sink.gap(length, ts, reason, cut);
  }

  private advance(off: number): void {
    this.nextSeq = (this.nextSeq + (off - this.nextOff)) >>> 0;
    this.nextOff = off;
  }

  /** Add the parts of [start, start+wireLen) not already held, comparing overlaps. */
  private insert(start: number, bytes: Uint8Array, wireLen: number, ts: Picos): void {
    const end = start + wireLen;
    const capEnd = start + bytes.length;
    let cursor = start > this.nextOff ? start : this.nextOff;
    const pieces = this.pieces;
    const last = pieces.length > 0 ? pieces[pieces.length - 1]! : null;
    if (last === null || cursor >= last.off + last.len) {
      this.addPiece(pieces.length, cursor, end, start, capEnd, bytes, ts);
      return;
    }
    let overlapped = false;
    let i = 0;
    while (i < pieces.length && pieces[i]!.off + pieces[i]!.len <= cursor) i++;
    while (cursor < end && i < pieces.length) {
      const p = pieces[i]!;
      if (p.off >= end) break;
      if (p.off > cursor) {
        i += this.addPiece(i, cursor, p.off, start, capEnd, bytes, ts);
        cursor = p.off;
        continue;
      }
      // cursor lies within p: compare the bytes both have.
      const ovEnd = p.off + p.len < end ? p.off + p.len : end;
      if (!overlapped && p.data !== null) {
        const cmpEnd = Math.min(ovEnd, capEnd, p.off + p.data.length);
        for (let o = cursor; o < cmpEnd; o++) {
          if (bytes[o - start] !== p.data[o - p.off]) { overlapped = true; break; }
        }
      }
      cursor = ovEnd;
      i++;
    }
    if (cursor < end) this.addPiece(i, cursor, end, start, capEnd, bytes, ts);
    if (overlapped) this.sink.anomaly('tcp-overlap', OVERLAP, 1, ts);
  }

  /** Insert [a, b) of the segment at index i: captured part copied, the rest as a null piece. Returns pieces added. */
  private addPiece(i: number, a: number, b: number, segStart: number, capEnd: number, bytes: Uint8Array, ts: Picos): number {
    let added = 0;
    const dataEnd = capEnd < b ? capEnd : b;
    if (dataEnd > a) {
      const data = bytes.slice(a - segStart, dataEnd - segStart);
      this.budget.used += data.length;
      this.pieces.splice(i + added, 0, { off: a, len: dataEnd - a, data, ts });
      added++;
    }
    const nullStart = dataEnd > a ? dataEnd : a;
    if (b > nullStart) {
      this.pieces.splice(i + added, 0, { off: nullStart, len: b - nullStart, data: null, ts });
      added++;
    }
    return added;
  }

  /** Deliver pieces that are now in order. */
  private drain(): void {
    const pieces = this.pieces;
    let n = 0;
    while (n < pieces.length && pieces[n]!.off <= this.nextOff) {
      const p = pieces[n++]!;
      if (p.data !== null) this.budget.used -= p.data.length;
      const pEnd = p.off + p.len;
      if (pEnd <= this.nextOff) continue;
      const skip = this.nextOff - p.off;
      if (p.data !== null) this.push(skip === 0 ? p.data : p.data.subarray(skip), p.ts);
      else this.hole(p.len - skip, p.ts, GAP_SNAPLEN);
      this.advance(pEnd);
    }
    if (n > 0) pieces.splice(0, n);
  }

  /** Declare everything before `target` that we do not hold a hole, delivering what we hold. */
  private skipTo(target: number, ts: Picos, reason: string): void {
    while (this.nextOff < target) {
      const first = this.pieces.length > 0 ? this.pieces[0]! : null;
      const holeEnd = first !== null && first.off < target ? first.off : target;
      if (holeEnd > this.nextOff) {
        const len = holeEnd - this.nextOff;
        this.hole(len, ts, reason);
        this.advance(holeEnd);
      }
      this.drain();
    }
  }

  private enforceBudget(ts: Picos): void {
    while (this.budget.used > this.budget.max && this.pieces.length > 0) {
      this.sink.anomaly('flow-memory', BOUND, 1, ts);
      this.skipTo(this.pieces[0]!.off, ts, GAP_BOUND);
      this.drain();
    }
  }

  private releaseAll(): void {
    for (const p of this.pieces) if (p.data !== null) this.budget.used -= p.data.length;
    this.pieces = [];
  }
}
