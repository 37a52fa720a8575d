import type { Picos } from '../../core/time.js';

/** Returned by a step when the item at `p` is not complete in the window yet. */
export const NEED_MORE = -1;
/** Returned by a step that gave up on the stream (it already reported why). */
export const STOP = -2;

/**
 * Parses one item (a record header, a page header…) at buf[p..end). Returns the bytes
 * consumed (0 is allowed when only the parser state changed), NEED_MORE, or STOP.
 * `ts` is the capture time of the segment that carried buf[p].
 */
export type Step = (buf: Uint8Array, p: number, end: number, ts: Picos) => number;

/**
 * Drives a step parser over arbitrarily chunked in-order bytes. Items are parsed in
 * place in the caller's chunk; only an item split across chunks is copied, into a
 * small bounded carry buffer (headers only). Payloads the parser does not need (page
 * data) are passed over with `skip` and never copied.
 */
export class ByteFeeder {
  /** Bytes to pass over before the next item. */
  skip = 0;
  /** Total bytes consumed (parsed + skipped). */
  offset = 0;
  stopped = false;
  private readonly carry: Uint8Array;
  private carryLen = 0;
  private carryTs: Picos = 0n;

  constructor(private readonly step: Step, readonly maxItem: number) {
    this.carry = new Uint8Array(maxItem);
  }

  /** Bytes held in the carry (an item started but not complete). */
  get pending(): number {
    return this.carryLen;
  }

  feed(bytes: Uint8Array, ts: Picos): void {
    let off = 0;
    let idle = 0;
    while (off < bytes.length && !this.stopped) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - off);
        this.skip -= n;
        this.offset += n;
        off += n;
        continue;
      }
      if (this.carryLen > 0) {
        const take = Math.min(this.carry.length - this.carryLen, bytes.length - off);
        this.carry.set(bytes.subarray(off, off + take), this.carryLen);
        const avail = this.carryLen + take;
        const r = this.step(this.carry, 0, avail, this.carryTs);
        if (r === STOP) { this.stopped = true; return; }
        if (r === NEED_MORE) {
          if (avail >= this.carry.length) { this.stopped = true; return; } // item larger than any header
          this.carryLen = avail;
          off += take;
          continue;
        }
        idle = r === 0 ? idle + 1 : 0;
        if (idle > 64) { this.stopped = true; return; }
        this.offset += r;
        if (r >= this.carryLen) {
          off += r - this.carryLen;
          this.carryLen = 0;
        } else {
          this.carry.copyWithin(0, r, this.carryLen);
          this.carryLen -= r;
        }
        continue;
      }
      const r = this.step(bytes, off, bytes.length, ts);
      if (r === STOP) { this.stopped = true; return; }
      if (r === NEED_MORE) {
        const rest = bytes.length - off;
        if (rest >= this.carry.length) { this.stopped = true; return; }
        this.carry.set(bytes.subarray(off), 0);
        this.carryLen = rest;
        this.carryTs = ts;
        return;
      }
      idle = r === 0 ? idle + 1 : 0;
      if (idle > 64) { this.stopped = true; return; }
      this.offset += r;
      off += r;
    }
  }

  /** Runs the step once more over the carried tail at end of stream (no more bytes). */
  flushTail(): number {
    if (this.carryLen === 0 || this.stopped) return 0;
    return this.step(this.carry, 0, this.carryLen, this.carryTs);
  }
}
