import type { PacketClock, Picos } from '../../core/time.js';
import type { Direction, FlowInfo } from '../../decode/types.js';
import type { Emit, GapKind, StreamDecoder } from '../types.js';
import { QemuStreamDecoder } from './decode.js';
import { MultifdChannelDecoder } from './multifd.js';
import { EncryptedChannelDecoder, looksLikeTls } from './tls.js';
import { MULTIFD_MAGIC } from './types.js';

/**
 * A connection to a migration port: the main stream ('QEVM'), a multifd channel
 * (0x11223344) or TLS (a handshake record), told apart by the first four bytes the
 * source sends. Until those are in, the bytes wait here (at most 3 of them).
 */
export class QemuChannelDecoder implements StreamDecoder {
  private inner?: StreamDecoder;
  private head = new Uint8Array(0);
  private headTs: Picos = 0n;

  constructor(private readonly flow: FlowInfo, private readonly emit: Emit) {}

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    if (this.inner) { this.inner.data(dir, bytes, ts); return; }
    if (dir !== 'c2s' || bytes.length === 0) return; // the return path says nothing before the source
    if (this.head.length === 0) this.headTs = ts;
    const all = this.head.length === 0 ? bytes : concat(this.head, bytes);
    if (all.length < 4) { this.head = all.slice(); return; }
    // TLS (QEMU native TLS on a migration port): counted, never walked as plaintext.
    this.inner = looksLikeTls(all) ? new EncryptedChannelDecoder(this.flow, this.head.length > 0 ? this.headTs : ts, this.emit)
      : magicOf(all) === MULTIFD_MAGIC ? new MultifdChannelDecoder(this.flow, this.emit) : new QemuStreamDecoder(this.flow, this.emit);
    this.head = new Uint8Array(0);
    this.inner.data(dir, all, all === bytes ? ts : this.headTs);
  }

  /** Once the channel is known, straight to its decoder (in place, when it takes offsets). */
  dataAt(dir: Direction, buf: Uint8Array, start: number, end: number, at: PacketClock): void {
    const inner = this.inner;
    if (inner?.dataAt !== undefined) inner.dataAt(dir, buf, start, end, at);
    else this.data(dir, buf.subarray(start, end), at.ts);
  }

  gap(dir: Direction, length: number, ts: Picos, kind: GapKind): void {
    this.pick().gap(dir, length, ts, kind);
  }

  end(dir: Direction, ts: Picos): void {
    const inner = this.pick();
    if (this.head.length > 0 && dir === 'c2s') {
      inner.data(dir, this.head, this.headTs);
      this.head = new Uint8Array(0);
    }
    inner.end(dir, ts);
  }

  /** A gap or end before four bytes came: the main stream's decoder reports it. */
  private pick(): StreamDecoder {
    this.inner ??= new QemuStreamDecoder(this.flow, this.emit);
    return this.inner;
  }
}

function magicOf(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
