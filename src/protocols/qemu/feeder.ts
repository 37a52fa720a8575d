import { PacketClock, type Picos } from '../../core/time.js';

/** Returned by a step when the item at `p` is not complete in the window yet. */
export const NEED_MORE = -1;
/** Returned by a step that gave up on the stream (it already reported why). */
export const STOP = -2;

/**
 * Parses one item (a record header, a page header…) at buf[p..end). Returns the bytes
 * consumed (0 is allowed when only the parser state changed), NEED_MORE, or STOP.
 * `at` is the capture time of the segment that carried buf[p] (`at.ts` makes its bigint:
 * only when a message needs it); valid during the call only.
 */
export type Step = (buf: Uint8Array, p: number, end: number, at: PacketClock) => number;

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
  private readonly carryAt = new PacketClock();
  /** The time of a feed() given as a bigint. */
  private readonly fedAt = new PacketClock();

  constructor(private readonly step: Step, readonly maxItem: number) {
    this.carry = new Uint8Array(maxItem);
  }

  /** Bytes held in the carry (an item started but not complete). */
  get pending(): number {
    return this.carryLen;
  }

  feed(bytes: Uint8Array, ts: Picos): void {
    this.fedAt.setTs(ts);
    this.feedAt(bytes, 0, bytes.length, this.fedAt);
  }

  /**
   * In-order bytes buf[start, end) at time `at`. Bytes inside a skipped payload cost one
   * subtraction per segment: a segment within a RAM page's data never reaches the step.
   */
  feedAt(bytes: Uint8Array, start: number, end: number, at: PacketClock): void {
    let off = start;
    let idle = 0;
    while (off < end && !this.stopped) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - off);
        this.skip -= n;
        this.offset += n;
        off += n;
        continue;
      }
      if (this.carryLen > 0) {
        const take = Math.min(this.carry.length - this.carryLen, end - off);
        this.carry.set(bytes.subarray(off, off + take), this.carryLen);
        const avail = this.carryLen + take;
        const r = this.step(this.carry, 0, avail, this.carryAt);
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
      const r = this.step(bytes, off, end, at);
      if (r === STOP) { this.stopped = true; return; }
      if (r === NEED_MORE) {
        const rest = end - off;
        if (rest >= this.carry.length) { this.stopped = true; return; }
        this.carry.set(bytes.subarray(off, end), 0);
        this.carryLen = rest;
        this.carryAt.copyFrom(at);
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
    return this.step(this.carry, 0, this.carryLen, this.carryAt);
  }
}
