import type { Picos } from '../core/time.js';

/**
 * Out-of-order bytes of one TCP direction: a contiguous run of stream offsets
 * [start, end) that is either all captured (`buf` holds the bytes) or all cut by the
 * capture's snaplen (`buf` null). Adjacent ranges of the same kind are merged, so a
 * flood of 1-byte segments costs one range, not one object per segment.
 *
 * Bytes sit in `buf[head, head + length)` with free room on both sides; when a side is
 * full the buffer is reallocated at twice the size with the data centred, so appending
 * and prepending are both amortised O(1) per byte (descending or alternating segments).
 * Each byte keeps the timestamp of the segment that brought it as runs of (length, ts):
 * `backLen/backTs` in stream order, `frontLen/frontTs` for prepended runs in reverse
 * (no arrays at all while every byte has the same timestamp).
 *
 * A node of `OffsetTree` too (left/right/pri).
 */
export class HeldRange {
  left: HeldRange | null = null;
  right: HeldRange | null = null;
  readonly pri = Math.random();
  head = 0;
  /** Bytes charged to the memory budget for this range (bookkeeping included). */
  cost = 0;
  /** The timestamp of every byte while the range has a single run (the common case: no arrays). */
  private ts0: Picos;
  private backLen: number[] | null = null;
  private backTs: Picos[] | null = null;
  private frontLen: number[] | null = null;
  private frontTs: Picos[] | null = null;

  constructor(public start: number, public end: number, public buf: Uint8Array | null, ts: Picos) {
    this.ts0 = ts;
    this.cost = this.measure();
  }

  get length(): number { return this.end - this.start; }
  get runs(): number { return this.backLen === null ? 1 : this.backLen.length + (this.frontLen?.length ?? 0); }

  /** The captured byte at stream offset `off` (a data range). */
  byteAt(off: number): number {
    return this.buf![this.head + off - this.start]!;
  }

  /** The bytes [start, end) as a view (a data range). */
  bytes(): Uint8Array {
    return this.buf!.subarray(this.head, this.head + this.length);
  }

  /** Adds `len` bytes (`data` or a cut) at the end. */
  append(data: Uint8Array | null, len: number, ts: Picos): void {
    if (data !== null) {
      if (this.head + this.length + len > this.buf!.length) this.regrow(len);
      this.buf!.set(data, this.head + this.length);
    }
    const before = this.length;
    this.end += len;
    if (this.backLen === null) {
      if (ts === this.ts0) return;
      this.split(before);
    }
    const bl = this.backLen!;
    const n = bl.length;
    if (this.backTs![n - 1] === ts) bl[n - 1]! += len;
    else { bl.push(len); this.backTs!.push(ts); }
  }

  /** Adds `len` bytes (`data` or a cut) before the start. */
  prepend(data: Uint8Array | null, len: number, ts: Picos): void {
    if (data !== null) {
      if (this.head < len) this.regrow(len);
      this.head -= len;
      this.buf!.set(data, this.head);
    }
    const before = this.length;
    this.start -= len;
    if (this.backLen === null) {
      if (ts === this.ts0) return;
      this.split(before);
    }
    const f = this.frontLen;
    if (f !== null && f.length > 0) {
      if (this.frontTs![f.length - 1] === ts) f[f.length - 1]! += len;
      else { f.push(len); this.frontTs!.push(ts); }
    } else if (this.backTs![0] === ts) this.backLen![0]! += len;
    else { this.frontLen = [len]; this.frontTs = [ts]; }
  }

  /** Moves all of `next` (which starts at this.end, same kind) onto the end of this range. */
  appendRange(next: HeldRange): void {
    const buf = next.buf;
    let off = next.head;
    for (let i = 0, n = next.runs; i < n; i++) {
      const len = next.runLength(i);
      this.append(buf !== null ? buf.subarray(off, off + len) : null, len, next.runTs(i));
      off += len;
    }
  }

  /** Moves all of `prev` (which ends at this.start, same kind) onto the front of this range. */
  prependRange(prev: HeldRange): void {
    const buf = prev.buf;
    let end = prev.head + prev.length;
    for (let i = prev.runs - 1; i >= 0; i--) {
      const len = prev.runLength(i);
      this.prepend(buf !== null ? buf.subarray(end - len, end) : null, len, prev.runTs(i));
      end -= len;
    }
  }

  /** Length of the i-th timestamp run, in stream order. */
  runLength(i: number): number {
    if (this.backLen === null) return this.length;
    const nf = this.frontLen?.length ?? 0;
    return i < nf ? this.frontLen![nf - 1 - i]! : this.backLen[i - nf]!;
  }

  /** Timestamp of the i-th run, in stream order. */
  runTs(i: number): Picos {
    if (this.backTs === null) return this.ts0;
    const nf = this.frontTs?.length ?? 0;
    return i < nf ? this.frontTs![nf - 1 - i]! : this.backTs[i - nf]!;
  }

  /** Recomputes `cost`; returns the change. */
  remeasure(): number {
    const before = this.cost;
    this.cost = this.measure();
    return this.cost - before;
  }

  /** Leaves the single-run form: the existing `length` bytes become the first back run. */
  private split(length: number): void {
    this.backLen = [length];
    this.backTs = [this.ts0];
  }

  private measure(): number {
    return RANGE_COST + (this.buf !== null ? this.buf.length + BUFFER_COST : 0) + (this.backLen === null ? 0 : this.runs * RUN_COST);
  }

  /** Room for `extra` more bytes at either end: twice the size, data centred. */
  private regrow(extra: number): void {
    const len = this.length;
    const cap = Math.max(64, 2 * (len + extra));
    const buf = new Uint8Array(cap);
    const head = (cap - len) >> 1;
    buf.set(this.buf!.subarray(this.head, this.head + len), head);
    this.buf = buf;
    this.head = head;
  }
}

/**
 * Heap bytes per range, measured on Node 20 (test/hostile/memory.test.ts checks the
 * constants against process.memoryUsage()): the object with its run arrays, a
 * Uint8Array with its ArrayBuffer, and one (length, bigint ts) run.
 */
export const RANGE_COST = 200;
export const BUFFER_COST = 150;
export const RUN_COST = 48;
