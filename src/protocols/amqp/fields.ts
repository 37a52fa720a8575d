/**
 * Bounds-checked big-endian reader over one AMQP frame payload, and the 0-9-1 field
 * table. Reads past the end never throw: they set `ok = false` and return zero values,
 * so a decoder checks `ok` once at the end.
 */
export class PayloadReader {
  ok = true;
  private view: DataView | null = null;

  constructor(readonly bytes: Uint8Array, public pos: number, readonly end: number) {}

  private need(n: number): boolean {
    if (this.ok && this.pos + n <= this.end) return true;
    this.ok = false;
    this.pos = this.end;
    return false;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (!this.need(1)) return 0;
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    if (!this.need(2)) return 0;
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(): number {
    if (!this.need(4)) return 0;
    const b = this.bytes;
    const v = ((b[this.pos]! << 24) >>> 0) + ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
    this.pos += 4;
    return v;
  }

  /** A 64-bit unsigned as a number (delivery tags and body sizes stay far below 2^53). */
  u64(): number {
    const hi = this.u32();
    const lo = this.u32();
    return hi * 4294967296 + lo;
  }

  /** Signed/float reads for field values (rare): through a DataView made on demand. */
  dataView(): DataView {
    if (this.view === null) this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.view;
  }

  signed(size: 1 | 2 | 4 | 8): number | bigint {
    if (!this.need(size)) return 0;
    const dv = this.dataView();
    const p = this.pos;
    this.pos += size;
    switch (size) {
      case 1: return dv.getInt8(p);
      case 2: return dv.getInt16(p);
      case 4: return dv.getInt32(p);
      default: return dv.getBigInt64(p);
    }
  }

  float(size: 4 | 8): number {
    if (!this.need(size)) return 0;
    const p = this.pos;
    this.pos += size;
    return size === 4 ? this.dataView().getFloat32(p) : this.dataView().getFloat64(p);
  }

  skip(n: number): void {
    if (this.need(n)) this.pos += n;
  }

  /** shortstr: u8 length + bytes (latin-1 is lossless for our ASCII names). */
  shortStr(): string {
    const n = this.u8();
    if (!this.need(n)) return '';
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.bytes[this.pos + i]!);
    this.pos += n;
    return s;
  }

  /** longstr: u32 length + bytes; returns the [start, end) range without copying. */
  longStrRange(): [number, number] {
    const n = this.u32();
    if (!this.need(n)) return [this.pos, this.pos];
    const start = this.pos;
    this.pos += n;
    return [start, this.pos];
  }
}

export type FieldValue =
  | boolean | number | bigint | string | null | Uint8Array | FieldValue[] | FieldTable
  | { decimal: { scale: number; value: number } };
export interface FieldTable { [name: string]: FieldValue }

/** Nesting bound: tables in arrays in tables… stop before the JS stack would. */
const MAX_DEPTH = 16;
/** Long strings decoded to text up to this size; longer ones only counted. */
const MAX_TEXT = 4096;

/**
 * One field value. Type letters follow RabbitMQ's 0-9-1 errata (what brokers and
 * clients actually send): 's' is a signed 16-bit integer (not a short string), 'l' a
 * signed 64-bit, 'x' a byte array; the spec's 'U' and 'L' are also accepted. Unknown
 * letters make the reader not ok (their length is unknown, so nothing after can be read).
 */
export function readFieldValue(r: PayloadReader, depth: number): FieldValue {
  const type = r.u8();
  switch (type) {
    case 0x74: return r.u8() !== 0;                 // 't' boolean
    case 0x62: return r.signed(1);                  // 'b' int8
    case 0x42: return r.u8();                       // 'B' uint8
    case 0x73: case 0x55: return r.signed(2);       // 's' (RabbitMQ) / 'U' (spec) int16
    case 0x75: return r.u16();                      // 'u' uint16
    case 0x49: return r.signed(4);                  // 'I' int32
    case 0x69: return r.u32();                      // 'i' uint32
    case 0x6c: case 0x4c: return r.signed(8);       // 'l' (RabbitMQ) / 'L' (spec) int64
    case 0x66: return r.float(4);                   // 'f'
    case 0x64: return r.float(8);                   // 'd'
    case 0x44: { const scale = r.u8(); return { decimal: { scale, value: r.signed(4) as number } }; } // 'D'
    case 0x53: {                                    // 'S' long string
      const [s, e] = r.longStrRange();
      if (e - s > MAX_TEXT) return `<${e - s} bytes>`;
      let t = '';
      for (let i = s; i < e; i++) t += String.fromCharCode(r.bytes[i]!);
      return t;
    }
    case 0x78: {                                    // 'x' byte array
      const [s, e] = r.longStrRange();
      return r.bytes.slice(s, Math.min(e, s + MAX_TEXT));
    }
    case 0x41: {                                    // 'A' array
      const [s, e] = r.longStrRange();
      if (depth >= MAX_DEPTH) { r.ok = false; return null; }
      const inner = new PayloadReader(r.bytes, s, e);
      const items: FieldValue[] = [];
      while (inner.ok && inner.remaining > 0) items.push(readFieldValue(inner, depth + 1));
      if (!inner.ok) r.ok = false;
      return items;
    }
    case 0x54: return r.u64();                      // 'T' timestamp (seconds)
    case 0x46: return readFieldTableAt(r, depth + 1); // 'F' nested table
    case 0x56: return null;                         // 'V' void
    default:
      r.ok = false;
      return null;
  }
}

function readFieldTableAt(r: PayloadReader, depth: number): FieldTable {
  const [s, e] = r.longStrRange();
  // No prototype: a field named "__proto__" must stay a plain entry.
  const table = Object.create(null) as FieldTable;
  if (depth >= MAX_DEPTH) { r.ok = false; return table; }
  const inner = new PayloadReader(r.bytes, s, e);
  while (inner.ok && inner.remaining > 0) {
    const name = inner.shortStr();
    const value = readFieldValue(inner, depth);
    if (inner.ok) table[name] = value;
  }
  if (!inner.ok) r.ok = false;
  return table;
}

/** A field table (u32 length + name/value pairs); `r.ok` is false when it is malformed. */
export function readFieldTable(r: PayloadReader): FieldTable {
  return readFieldTableAt(r, 0);
}
