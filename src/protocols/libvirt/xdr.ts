const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * A bounds-checked XDR (RFC 4506) reader over a byte range. It never throws: reading
 * past the end sets `failed`, and every later read returns an empty value.
 */
export class XdrReader {
  failed = false;
  private readonly dv: DataView;

  constructor(private readonly buf: Uint8Array, public pos = 0, private readonly end = buf.length) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.failed ? 0 : this.end - this.pos;
  }

  private take(n: number): number {
    if (this.failed || n < 0 || this.end - this.pos < n) {
      this.failed = true;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.dv.getUint32(at);
  }

  i32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.dv.getInt32(at);
  }

  /** hyper / unsigned hyper as a number (exact below 2^53). */
  u64(): number {
    const at = this.take(8);
    return at < 0 ? 0 : this.dv.getUint32(at) * 4294967296 + this.dv.getUint32(at + 4);
  }

  f64(): number {
    const at = this.take(8);
    return at < 0 ? 0 : this.dv.getFloat64(at);
  }

  /** Fixed-length opaque (padded to 4 bytes): a view, not a copy. */
  fixedOpaque(n: number): Uint8Array {
    const at = this.take((n + 3) & ~3);
    return at < 0 ? new Uint8Array(0) : this.buf.subarray(at, at + n);
  }

  /** Variable-length opaque<max>: a view, not a copy. */
  opaque(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) {
      this.failed = true;
      return new Uint8Array(0);
    }
    return this.fixedOpaque(n);
  }

  string(max: number): string {
    return utf8.decode(this.opaque(max));
  }

  /** `remote_string` (a pointer): a present flag, then the string. */
  optionalString(max: number): string | undefined {
    const present = this.u32();
    if (present > 1) this.failed = true;
    return present === 1 ? this.string(max) : undefined;
  }
}
