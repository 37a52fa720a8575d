import { Decoder, ExtensionCodec } from '@msgpack/msgpack';

/**
 * The msgpack form of the event stream (written by src/output/msgpack.ts, read back by
 * src/stats): one map per event, concatenated.
 *
 * Picoseconds since the epoch (~1.8e21 in 2026) do not fit in 64 bits (2^64 ps is
 * only ~213 days), so a bigint is written as uint64/int64 when it fits (durations,
 * byte counts) and otherwise as extension type 1: the unsigned value, big-endian, in
 * the fewest bytes (9 for today's timestamps). `decodeMsgpackStream` turns both back
 * into bigint; other readers register ext type 1 the same way. A bigint below −2^63
 * (a capture clock far before the epoch) is extension type 2: its magnitude, the same
 * way, so that no value is wrapped into another.
 */
export const WIDE_UINT_EXT = 1;
export const WIDE_NEGATIVE_EXT = 2;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

/** Marks a bigint that needs an extension (a class, so the codec can recognise it). */
class WideInt {
  constructor(readonly value: bigint) {}
}

function magnitudeBytes(value: bigint): Uint8Array {
  let v = value < 0n ? -value : value;
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Uint8Array.from(bytes);
}

function bytesMagnitude(data: Uint8Array): bigint {
  let v = 0n;
  for (const b of data) v = (v << 8n) | BigInt(b);
  return v;
}

export const codec = new ExtensionCodec();
codec.register({
  type: WIDE_UINT_EXT,
  encode: (input: unknown): Uint8Array | null => (input instanceof WideInt && input.value > 0n ? magnitudeBytes(input.value) : null),
  decode: bytesMagnitude,
});
codec.register({
  type: WIDE_NEGATIVE_EXT,
  encode: (input: unknown): Uint8Array | null => (input instanceof WideInt && input.value < 0n ? magnitudeBytes(input.value) : null),
  decode: (data: Uint8Array): bigint => -bytesMagnitude(data),
});

/**
 * `value` with every bigint too wide for 64 bits marked for the extension. Copy on
 * write: only the maps and arrays on the way to a wide bigint are copied (shallowly),
 * everything else is returned as it is. The copy cannot be avoided by the codec: the
 * encoder writes any bigint as a 64-bit integer before an extension sees it.
 */
export function widen(value: unknown): unknown {
  if (typeof value === 'bigint') return value > U64_MAX || value < I64_MIN ? new WideInt(value) : value;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const w = widen(value[i]);
      if (w !== value[i]) (out ??= value.slice())[i] = w;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const w = widen(v);
    if (w !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = w;
  }
  return out ?? value;
}

/** Reads a concatenation of msgpack values back (64-bit and wide integers as bigint). */
export function decodeMsgpackStream(bytes: Uint8Array): unknown[] {
  return [...new Decoder({ useBigInt64: true, extensionCodec: codec }).decodeMulti(bytes)];
}

/** A wide integer's extension holds its magnitude: 9 bytes today; more is not ours (and costs O(n²) to read). */
const MAX_WIDE_EXT = 64;

/** Payload bytes after a fixed-size head byte (ints, floats, fixext), by head byte; 0 for none. */
function fixedPayload(h: number): number {
  switch (h) {
    case 0xcc: case 0xd0: return 1;
    case 0xcd: case 0xd1: return 2;
    case 0xca: case 0xce: case 0xd2: return 4;
    case 0xcb: case 0xcf: case 0xd3: return 8;
    case 0xd4: return 2;
    case 0xd5: return 3;
    case 0xd6: return 5;
    case 0xd7: return 9;
    case 0xd8: return 17;
    default: return 0;
  }
}

/**
 * End offset of the msgpack value starting at `pos` in `b`, -1 when `b` ends inside it,
 * -2 at a byte no value starts with (0xc1). Reads heads and lengths only, iteratively
 * (nesting costs no stack): linear in the bytes it passes.
 */
export function msgpackValueEnd(b: Uint8Array, pos: number): number {
  let items = 1;
  let p = pos;
  const uint = (at: number, size: number): number => {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + b[at + i]!;
    return v;
  };
  while (items > 0) {
    if (p >= b.length) return -1;
    const h = b[p++]!;
    items--;
    if (h <= 0x7f || h >= 0xe0 || h === 0xc0 || h === 0xc2 || h === 0xc3) continue;
    if (h <= 0x8f) { items += 2 * (h & 0x0f); continue; }
    if (h <= 0x9f) { items += h & 0x0f; continue; }
    if (h <= 0xbf) { p += h & 0x1f; continue; }
    if (h === 0xc1) return -2;
    const fixed = fixedPayload(h);
    if (fixed > 0) { p += fixed; continue; }
    // Variable lengths: str/bin 8/16/32, ext 8/16/32 (+1 type byte), array/map 16/32.
    const size = h === 0xc4 || h === 0xc7 || h === 0xd9 ? 1 : h === 0xc5 || h === 0xc8 || h === 0xda || h === 0xdc || h === 0xde ? 2 : 4;
    if (p + size > b.length) return -1;
    const n = uint(p, size);
    p += size;
    if (h === 0xdc || h === 0xdd) items += n;
    else if (h === 0xde || h === 0xdf) items += 2 * n;
    else p += n + (h >= 0xc7 && h <= 0xc9 ? 1 : 0);
  }
  return p <= b.length ? p : -1;
}

/**
 * The values of a msgpack byte stream as they arrive, none larger than `maxValueBytes`.
 * Each value is framed first (msgpackValueEnd) and decoded once complete, so at most one
 * value and one chunk are held; a larger value — which msgpack cannot skip without
 * reading it — ends the stream, and so does a stream ending inside a value: both are
 * reported through `problem`. Undecodable bytes throw after the values before them.
 */
export async function* decodeMsgpackValues(chunks: AsyncIterable<Uint8Array>, maxValueBytes: number,
  problem: (what: 'too-long' | 'truncated') => void): AsyncGenerator<unknown> {
  const decoder = new Decoder({
    useBigInt64: true, extensionCodec: codec, maxStrLength: maxValueBytes, maxBinLength: maxValueBytes,
    maxArrayLength: maxValueBytes, maxMapLength: maxValueBytes >> 1, maxExtLength: MAX_WIDE_EXT,
  });
  // Unread bytes are buf[start, end), in a buffer grown by doubling (each byte copied O(1)
  // times). An unfinished value is framed again only once the bytes held doubled since the
  // last try, so tiny chunks cost linear time too.
  let buf = new Uint8Array(64 * 1024);
  let start = 0;
  let end = 0;
  let retryAt = 0;
  /** Frames and decodes the complete values held; false when the stream must stop. */
  function* drain(final: boolean): Generator<unknown, boolean> {
    for (;;) {
      if (start === end) return true;
      const at = msgpackValueEnd(buf.subarray(start, end), 0);
      if (at === -2) throw new Error('msgpack: byte 0xc1 at the start of a value');
      if (at === -1) {
        if (final) { problem('truncated'); return false; }
        if (end - start > maxValueBytes) { problem('too-long'); return false; }
        retryAt = 2 * (end - start);
        return true;
      }
      if (at > maxValueBytes) { problem('too-long'); return false; }
      yield decoder.decode(buf.subarray(start, start + at));
      start += at;
      retryAt = 0;
    }
  }
  for await (const chunk of chunks) {
    if (end + chunk.length > buf.length) {
      const held = end - start;
      const grown = new Uint8Array(Math.max(buf.length, 2 * (held + chunk.length)));
      grown.set(buf.subarray(start, end));
      buf = grown;
      start = 0;
      end = held;
    }
    buf.set(chunk, end);
    end += chunk.length;
    if (end - start < retryAt && end - start <= maxValueBytes) continue;
    if (!(yield* drain(false))) return;
  }
  yield* drain(true);
}
