import type { Picos } from '../core/time.js';
import type { Direction } from '../decode/types.js';

/** TLS record content types (RFC 8446 §5.1). */
export const TLS_CHANGE_CIPHER_SPEC = 20;
export const TLS_HANDSHAKE = 22;
export const TLS_APPLICATION_DATA = 23;
/** A TLS record is at most 2^14 bytes plus expansion (2^14 + 2048 for TLS 1.2 ciphertext). */
const MAX_RECORD = 16384 + 2048;
/** Bytes of the ServerHello kept to read its version and cipher suite (it is ~100 bytes). */
const HELLO_KEPT = 512;
/** supported_versions (RFC 8446 §4.2.1): a ServerHello naming 0x0304 is TLS 1.3. */
const EXT_SUPPORTED_VERSIONS = 43;

/** Is this the start of a TLS handshake record (ClientHello)? 0x16 0x03 0x00–0x04. */
export function looksLikeTls(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === TLS_HANDSHAKE && b[1] === 3 && b[2]! <= 4;
}

/** Is this the start of any TLS record (types 20–23, version 3.0–3.4)? */
export function isTlsRecordStart(b: Uint8Array): boolean {
  return b.length >= 3 && b[0]! >= 20 && b[0]! <= 23 && b[1] === 3 && b[2]! <= 4;
}

export interface TlsRecordHeader {
  type: number;
  /** Record length (ciphertext, after the 5-byte header). */
  length: number;
  /** Capture time of the packet carrying the record's first byte. */
  start: Picos;
  /** Capture time of the packet completing its 5-byte header. */
  ts: Picos;
}

/**
 * The record layer of a TLS connection, both directions, without decrypting anything:
 * record headers (type, length) are followed by length, the payloads passed over; the
 * bytes each way come from the reassembled sequence space (holes counted). The server's
 * first handshake record (the ServerHello, in the clear) gives the version and the
 * cipher suite, hence how many bytes a record adds to its plaintext.
 */
export class TlsRecordLayer {
  readonly bytes = { c2s: 0, s2c: 0 };
  /** Bytes left of the record being passed over, per direction; -1: record layer lost. */
  private readonly left = { c2s: 0, s2c: 0 };
  private readonly hdr = { c2s: [] as number[], s2c: [] as number[] };
  private readonly hdrStart = { c2s: 0n as Picos, s2c: 0n as Picos };
  /** The ServerHello's first bytes while they are read; undefined once done. */
  private hello: number[] | undefined = [];
  private helloLeft = 0;
  tls13 = false;
  cipherSuite?: number;

  constructor(private readonly onRecord: (dir: Direction, rec: TlsRecordHeader) => void) {}

  data(dir: Direction, b: Uint8Array, ts: Picos): void {
    this.bytes[dir] += b.length;
    let p = 0;
    while (p < b.length && this.left[dir] >= 0) {
      if (this.left[dir] > 0) {
        const n = Math.min(this.left[dir], b.length - p);
        if (dir === 's2c' && this.helloLeft > 0) this.keepHello(b, p, n);
        this.left[dir] -= n;
        p += n;
        continue;
      }
      const h = this.hdr[dir];
      if (h.length === 0) this.hdrStart[dir] = ts;
      while (h.length < 5 && p < b.length) h.push(b[p++]!);
      if (h.length < 5) return;
      const type = h[0]!;
      const major = h[1]!;
      const length = (h[3]! << 8) | h[4]!;
      h.length = 0;
      if (major !== 3 || type < 20 || type > 24 || length > MAX_RECORD) { this.left[dir] = -1; return; }
      if (dir === 's2c' && type === TLS_HANDSHAKE && this.hello !== undefined && this.hello.length === 0 && this.helloLeft === 0) {
        this.helloLeft = Math.min(length, HELLO_KEPT);
      }
      this.left[dir] = length;
      this.onRecord(dir, { type, length, start: this.hdrStart[dir], ts });
    }
  }

  /** Bytes missing in `dir`: counted, and the record walk of that direction ends. */
  gap(dir: Direction, length: number): void {
    this.bytes[dir] += length;
    this.left[dir] = -1;
  }

  lost(dir: Direction): boolean {
    return this.left[dir] < 0;
  }

  /**
   * Bytes a record adds to its plaintext under the negotiated suite: AEAD suites only
   * (TLS 1.3: inner content type + 16-byte tag, 8 for CCM_8; TLS 1.2 GCM/CCM: explicit
   * nonce + tag; ChaCha20-Poly1305: tag). Undefined before the ServerHello or for a
   * suite whose expansion varies (CBC padding).
   */
  get expansion(): number | undefined {
    const s = this.cipherSuite;
    if (s === undefined) return undefined;
    if (this.tls13) return s === 0x1305 ? 9 : 17;
    if ((s >= 0x009c && s <= 0x00a5) || (s >= 0xc02b && s <= 0xc032) || (s >= 0xc09c && s <= 0xc0a3)) return 24;
    if (s >= 0xcca8 && s <= 0xccae) return 16;
    return undefined;
  }

  private keepHello(b: Uint8Array, p: number, n: number): void {
    const take = Math.min(n, this.helloLeft);
    for (let i = 0; i < take; i++) this.hello!.push(b[p + i]!);
    this.helloLeft -= take;
    if (this.helloLeft === 0) {
      this.readServerHello(this.hello!);
      this.hello = undefined;
    }
  }

  /** ServerHello (RFC 8446 §4.1.3): type 2, u24 length, version, random, session id, suite, compression, extensions. */
  private readServerHello(h: readonly number[]): void {
    if (h[0] !== 2 || h.length < 41) return;
    let p = 38;
    p += 1 + h[p]!; // legacy session id
    if (p + 3 > h.length) return;
    this.cipherSuite = (h[p]! << 8) | h[p + 1]!;
    p += 3;
    if (p + 2 > h.length) return;
    const end = Math.min(h.length, p + 2 + ((h[p]! << 8) | h[p + 1]!));
    p += 2;
    while (p + 4 <= end) {
      const type = (h[p]! << 8) | h[p + 1]!;
      const len = (h[p + 2]! << 8) | h[p + 3]!;
      if (type === EXT_SUPPORTED_VERSIONS && len === 2 && p + 6 <= end) this.tls13 = h[p + 4] === 3 && h[p + 5] === 4;
      p += 4 + len;
    }
  }
}
