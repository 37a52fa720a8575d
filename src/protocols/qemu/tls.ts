import type { Picos } from '../../core/time.js';
import type { Direction, Endpoint, FlowInfo } from '../../decode/types.js';
import type { Emit, StreamDecoder } from '../types.js';

/** TLS record content types (RFC 8446 §5.1). */
const APPLICATION_DATA = 23;
const HANDSHAKE = 22;
/** A TLS record is at most 2^14 bytes plus expansion (2^14 + 2048 for TLS 1.2 ciphertext). */
const MAX_RECORD = 16384 + 2048;

/** Is this the start of a TLS handshake record (ClientHello)? 0x16 0x03 0x00–0x04. */
export function looksLikeTls(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === HANDSHAKE && b[1] === 3 && b[2]! <= 4;
}

/**
 * A migration connection that is TLS (QEMU native TLS, `tls-creds`): the stream is not
 * decoded (it cannot be, and a plaintext walk would be silently wrong). What is visible
 * is counted: the bytes each way (from the reassembled TCP sequence space, holes
 * included), and the record layer — when application data began and last flowed —
 * so that the phase engine can bound the Transfer phase.
 */
export class EncryptedChannelDecoder implements StreamDecoder {
  private readonly bytes = { c2s: 0, s2c: 0 };
  /** Bytes left of the record being passed over, per direction; -1: record layer lost. */
  private readonly left = { c2s: 0, s2c: 0 };
  private readonly hdr = { c2s: [] as number[], s2c: [] as number[] };
  private records = 0;
  private firstData?: Picos;
  private lastData?: Picos;
  private ended = false;
  private readonly src: Endpoint;
  private readonly dst: Endpoint;

  constructor(private readonly flow: FlowInfo, ts: Picos, private readonly emit: Emit) {
    this.src = flow.client;
    this.dst = flow.server;
    emit({ protocol: 'qemu', kind: 'encrypted', transport: 'tls', streamBytes: 0, ts, tsEnd: ts, flowId: flow.id, src: this.src, dst: this.dst });
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    this.bytes[dir] += bytes.length;
    if (dir === 'c2s') this.walk(bytes, ts);
  }

  gap(dir: Direction, length: number, _ts: Picos): void {
    this.bytes[dir] += length; // sequence space: the bytes were sent, not captured
    if (dir === 'c2s') this.left.c2s = -1;
  }

  end(dir: Direction, ts: Picos): void {
    if (dir !== 'c2s' || this.ended) return;
    this.ended = true;
    this.emit({
      protocol: 'qemu', kind: 'encrypted-end', transport: 'tls', streamBytes: this.bytes.c2s, returnBytes: this.bytes.s2c,
      records: this.records, ...(this.firstData !== undefined ? { firstData: this.firstData, lastData: this.lastData! } : {}),
      ts, tsEnd: ts, flowId: this.flow.id, src: this.src, dst: this.dst,
    });
  }

  /** Follows the source's record headers (type, version, length) without reading records. */
  private walk(b: Uint8Array, ts: Picos): void {
    let p = 0;
    while (p < b.length && this.left.c2s >= 0) {
      if (this.left.c2s > 0) {
        const n = Math.min(this.left.c2s, b.length - p);
        this.left.c2s -= n;
        p += n;
        continue;
      }
      const h = this.hdr.c2s;
      while (h.length < 5 && p < b.length) h.push(b[p++]!);
      if (h.length < 5) return;
      const len = (h[3]! << 8) | h[4]!;
      if (h[1] !== 3 || h[0]! < 20 || h[0]! > 24 || len > MAX_RECORD) { this.left.c2s = -1; return; }
      this.records++;
      if (h[0] === APPLICATION_DATA) {
        this.firstData ??= ts;
        this.lastData = ts;
      }
      this.left.c2s = len;
      h.length = 0;
    }
  }
}
