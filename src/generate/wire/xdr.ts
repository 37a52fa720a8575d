/** A growable big-endian XDR (RFC 4506) encoder: ints, hypers, strings, opaques. */
export class XdrWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  int(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.len, v);
    this.len += 4;
    return this;
  }

  uint(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.len, v >>> 0);
    this.len += 4;
    return this;
  }

  hyper(v: bigint): this {
    this.ensure(8);
    this.view.setBigInt64(this.len, v);
    this.len += 8;
    return this;
  }

  uhyper(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.len, v);
    this.len += 8;
    return this;
  }

  /** Fixed-length opaque (e.g. a 16-byte UUID), padded to 4. */
  fixedOpaque(b: Uint8Array): this {
    const pad = (4 - (b.length % 4)) % 4;
    this.ensure(b.length + pad);
    this.buf.set(b, this.len);
    this.len += b.length;
    for (let i = 0; i < pad; i++) this.buf[this.len++] = 0;
    return this;
  }

  /** Variable-length opaque: length word, bytes, padding. */
  opaque(b: Uint8Array): this {
    this.uint(b.length);
    return this.fixedOpaque(b);
  }

  string(s: string): this {
    return this.opaque(new TextEncoder().encode(s));
  }

  /** Optional (pointer) string: bool present + string. */
  optionalString(s: string | null): this {
    if (s === null) return this.uint(0);
    this.uint(1);
    return this.string(s);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  get length(): number {
    return this.len;
  }
}
