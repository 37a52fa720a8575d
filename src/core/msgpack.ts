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
