/**
 * A bounded, growable byte buffer for the few places a streaming decoder must hold a
 * whole unit (a header line, an AMQP method frame, a small JSON body) across TCP
 * segments. Grows by doubling up to `limit`; bytes past the limit are counted, not kept,
 * so one hostile connection cannot make us allocate without bound.
 */
export class ByteAccumulator {
  private buf: Uint8Array;
  private len = 0;
  /** Bytes offered after the limit was reached (the unit is then incomplete). */
  overflow = 0;

  constructor(private readonly limit: number, initial = 256) {
    this.buf = new Uint8Array(Math.min(initial, limit));
  }

  get length(): number {
    return this.len;
  }

  /** Bytes allocated (the memory budget counts capacity, not only what is held). */
  get capacity(): number {
    return this.buf.length;
  }

  get overflowed(): boolean {
    return this.overflow > 0;
  }

  /** Appends bytes[start, end); returns false when some did not fit. */
  append(bytes: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (n <= 0) return true;
    const room = this.limit - this.len;
    const take = n <= room ? n : room;
    if (take > 0) {
      this.reserve(this.len + take);
      this.buf.set(bytes.subarray(start, start + take), this.len);
      this.len += take;
    }
    if (take < n) {
      this.overflow += n - take;
      return false;
    }
    return true;
  }

  /** A view of the held bytes, valid until the next append/clear. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  clear(): void {
    this.len = 0;
    this.overflow = 0;
    // Give back memory a rare large unit made us take.
    if (this.buf.length > 65536) this.buf = new Uint8Array(256);
  }

  private reserve(need: number): void {
    if (need <= this.buf.length) return;
    let cap = this.buf.length || 256;
    while (cap < need) cap *= 2;
    if (cap > this.limit) cap = this.limit;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/** Latin-1 text of a byte range (HTTP heads, AMQP short strings). */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  // fromCharCode takes the typed array's elements as arguments: no copy; pieces keep
  // the argument count far below engine limits.
  let s = '';
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return s;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
/** UTF-8 text (JSON bodies); invalid sequences become U+FFFD, never an exception. */
export function utf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}
