/** Big-endian reads over a byte array; callers check bounds first. */
export function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/** u64 as a number (exact below 2^53, enough for guest addresses and sizes). */
export function u64(b: Uint8Array, p: number): number {
  return u32(b, p) * 4294967296 + u32(b, p + 4);
}

/** Printable ASCII string of `len` bytes, or undefined if any byte is not printable. */
export function readAscii(b: Uint8Array, p: number, len: number): string | undefined {
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = b[p + i]!;
    if (c < 0x20 || c > 0x7e) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}
