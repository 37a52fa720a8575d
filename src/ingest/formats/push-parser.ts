import type { CaptureFormat, CaptureReader, LinkType, ReaderStats, RecordSink } from '../types.js';

export function newReaderStats(): ReaderStats {
  return { packets: 0, bytes: 0, malformedRecords: 0, truncated: false, lostFrames: 0, duplicateFrames: 0, skippedBytes: 0 };
}

/**
 * Result of one parsing step: > 0 = bytes consumed (a record emitted or skipped);
 * < 0 = the record at `off` needs -result bytes in total (more than `avail`).
 */
export type StepResult = number;

const INITIAL_TAIL = 256;

/**
 * Chunk-agnostic push parser. Subclasses parse one record at a time with `step` on a
 * contiguous region. A record straddling chunks is assembled in a small tail buffer
 * (only the bytes it needs), everything else is parsed in place in the caller's chunk.
 *
 * Emitted `data` views point into the chunk or a tail buffer and stay intact until the
 * next push(): the tail that outlives a push is always written into a buffer from which
 * nothing was emitted during that push (two buffers, alternated).
 */
export abstract class PushParser implements CaptureReader {
  abstract readonly format: CaptureFormat;
  readonly stats: ReaderStats = newReaderStats();
  /** Why parsing stopped or the first anomaly, for the one-line report. */
  problem: string | undefined;
  protected stopped = false;
  /** Scanning for the next good record after a bad one (bytes are skipped one at a time). */
  protected resyncing = false;
  /** Bytes a resync scan moves on by: 1, or the format's alignment (pcapng blocks are 32-bit aligned). */
  protected resyncStride = 1;
  /** end() was called: a resync candidate is judged on the bytes there are (see confirmCandidate). */
  protected atEnd = false;
  private readonly bufs: Uint8Array[] = [new Uint8Array(INITIAL_TAIL), new Uint8Array(INITIAL_TAIL)];
  private readonly views: DataView[] = this.bufs.map((b) => new DataView(b.buffer));
  private readonly dirty = [false, false];
  private cur = 0;
  private tStart = 0;
  private tEnd = 0;

  constructor(protected readonly sink: RecordSink) {}

  /** Parses one record at buf[off, off+avail). Must validate lengths before asking for more. */
  protected abstract step(buf: Uint8Array, dv: DataView, off: number, avail: number): StepResult;

  /** One packet, buf[off, off + len) (see RecordSink). */
  protected emit(buf: Uint8Array, off: number, len: number, wireLength: number, linkType: LinkType, iface: number,
    sec: number, psec: number, nic?: string, mampid?: string): void {
    this.stats.packets++;
    this.stats.bytes += len;
    this.sink(buf, off, len, wireLength, linkType, iface, sec, psec, nic, mampid);
  }

  protected malformed(reason: string): void {
    this.stats.malformedRecords++;
    this.problem ??= reason;
  }

  /** Bytes consumed without becoming a packet (resync, skipped block); the base counts a stop's rest. */
  protected skipped(n: number): void {
    this.stats.skippedBytes = (this.stats.skippedBytes ?? 0) + n;
  }

  /** A clear stop: the rest of the input is not parseable (the step returns avail; all of it is counted). */
  protected stop(reason: string): void {
    this.stats.malformedRecords++;
    this.problem = reason;
    this.stopped = true;
  }

  /**
   * Resynchronisation after a bad record: a candidate record of `total` bytes at `off`
   * whose own header looks right is only taken if the record after it looks right too
   * (`follows(offset of the next header)`, `nextHeader` bytes), or if the input ends
   * right after it. A single plausible-looking header inside garbage (zeros, payload)
   * would otherwise swallow the real records behind it. Returns 0 to take the
   * candidate, > 0 when the scan moves on (resyncStride bytes, counted), < 0 when more input is needed.
   */
  protected confirmCandidate(off: number, avail: number, total: number, nextHeader: number, follows: (next: number) => boolean): StepResult {
    if (avail >= total + nextHeader) {
      if (follows(off + total)) return 0;
    } else if (!this.atEnd) {
      return -(total + nextHeader);
    } else if (avail >= total) {
      return 0; // the last record of the input (a cut header may follow: end() reports it)
    }
    const step = Math.min(this.resyncStride, avail);
    this.skipped(step);
    return step;
  }

  /**
   * A record whose header passed the reader's checks, but that is found by a resync scan
   * or is odd (empty, or a day away from the previous record: the shape of zeros or of
   * garbage that happens to parse), is only taken when the record after it agrees (see
   * confirmCandidate). An odd record that is not confirmed is counted as malformed
   * (`why`) and starts a resync. Returns 0 to take the record, else the step result.
   */
  protected vetRecord(off: number, avail: number, total: number, nextHeader: number, why: () => string, follows: (next: number) => boolean): StepResult {
    const r = this.confirmCandidate(off, avail, total, nextHeader, follows);
    if (r > 0 && !this.resyncing) {
      this.malformed(why());
      this.resyncing = true;
    }
    return r;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  push(chunk: Uint8Array): void {
    if (this.stopped) return this.skipped(chunk.length);
    if (chunk.length === 0) return;
    this.dirty[0] = this.dirty[1] = false;
    let pos = 0;
    // 1. Finish the record that straddles the previous chunk.
    while (this.tEnd > this.tStart && !this.stopped) {
      const avail = this.tEnd - this.tStart;
      const r = this.step(this.bufs[this.cur]!, this.views[this.cur]!, this.tStart, avail);
      if (r > 0) {
        if (this.stopped) this.skipped(r);
        this.dirty[this.cur] = true;
        this.tStart += Math.min(r, avail);
        if (this.tStart >= this.tEnd) this.tStart = this.tEnd = 0;
        continue;
      }
      const more = -r - avail;
      if (r === 0 || more <= 0) {
        this.stop(`internal: parser made no progress at a ${avail}-byte tail`);
        this.skipped(avail + chunk.length - pos);
        return this.discardTail();
      }
      const take = Math.min(more, chunk.length - pos);
      this.makeRoom(take);
      this.bufs[this.cur]!.set(chunk.subarray(pos, pos + take), this.tEnd);
      this.tEnd += take;
      pos += take;
      if (take < more) return;
    }
    if (this.stopped) {
      this.skipped(this.tEnd - this.tStart + chunk.length - pos);
      return this.discardTail();
    }
    // 2. Whole records inside the chunk, in place.
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (pos < chunk.length && !this.stopped) {
      const avail = chunk.length - pos;
      const r = this.step(chunk, dv, pos, avail);
      if (r === 0 || (r < 0 && -r <= avail)) {
        this.stop(`internal: parser made no progress at offset ${pos}`);
        return this.skipped(avail);
      }
      if (r < 0) break;
      pos += r;
      if (this.stopped) this.skipped(r);
    }
    if (this.stopped) return this.skipped(chunk.length - pos);
    // 3. Keep the incomplete rest in a buffer nothing was emitted from in this push.
    if (pos < chunk.length) {
      this.tStart = this.tEnd = 0;
      if (this.dirty[this.cur]) this.cur ^= 1;
      if (this.dirty[this.cur]) this.replace(this.cur, chunk.length - pos);
      this.makeRoom(chunk.length - pos);
      this.bufs[this.cur]!.set(chunk.subarray(pos), 0);
      this.tEnd = chunk.length - pos;
    }
  }

  end(): void {
    this.atEnd = true;
    // A resync candidate that waited for the record after it is decided on what is there.
    while (!this.stopped && this.tEnd > this.tStart) {
      const avail = this.tEnd - this.tStart;
      const r = this.step(this.bufs[this.cur]!, this.views[this.cur]!, this.tStart, avail);
      if (r <= 0) break;
      if (this.stopped) this.skipped(Math.min(r, avail));
      this.tStart += Math.min(r, avail);
    }
    if (!this.stopped && this.tEnd > this.tStart && this.resyncing) {
      this.skipped(this.tEnd - this.tStart); // the end of the garbage already counted as malformed
    } else if (!this.stopped && this.tEnd > this.tStart) {
      this.stats.truncated = true;
      this.skipped(this.tEnd - this.tStart);
      this.malformed(`truncated: ${this.tEnd - this.tStart} bytes of an incomplete record at the end`);
    }
    this.discardTail();
    this.stopped = true;
  }

  private discardTail(): void {
    this.tStart = this.tEnd = 0;
  }

  /** Room for `extra` more tail bytes; grows with the data actually present, never with a length field. */
  private makeRoom(extra: number): void {
    const buf = this.bufs[this.cur]!;
    const len = this.tEnd - this.tStart;
    if (this.tEnd + extra <= buf.length) return;
    // Compacting in place must free at least half the buffer: a resync scan consumes a
    // byte at a time from a tail that may hold a whole candidate record, and compacting
    // for every byte would copy the tail once per byte.
    if (2 * (len + extra) <= buf.length && !this.dirty[this.cur]) {
      buf.copyWithin(0, this.tStart, this.tEnd);
    } else {
      const other = this.cur ^ 1;
      const size = Math.max(2 * (len + extra), buf.length);
      if (this.dirty[other] || this.bufs[other]!.length < 2 * (len + extra)) this.replace(other, size);
      this.bufs[other]!.set(buf.subarray(this.tStart, this.tEnd), 0);
      this.cur = other;
    }
    this.tStart = 0;
    this.tEnd = len;
  }

  private replace(i: number, size: number): void {
    this.bufs[i] = new Uint8Array(Math.max(size, INITIAL_TAIL));
    this.views[i] = new DataView(this.bufs[i]!.buffer);
    this.dirty[i] = false;
  }
}
