import type { PacketClock, Picos } from '../core/time.js';
import type { Direction } from '../decode/types.js';
import type { GapKind, StreamDecoder } from './types.js';

/**
 * A connection whose decoder depends on what the client sends first (a magic number,
 * a TLS handshake record): its first `need` bytes wait here (fewer than `need` of
 * them), then `choose` picks the decoder, which gets them all. The client speaks first
 * in these protocols: server bytes before the choice are dropped, unless
 * `chooseForServer` picks the decoder from them (a capture begun mid-connection).
 */
export class ChosenByFirstBytes implements StreamDecoder {
  private inner?: StreamDecoder;
  private head = new Uint8Array(0);
  private headTs: Picos = 0n;

  constructor(
    private readonly need: number,
    /** `ts`: capture time of the first of those bytes. */
    private readonly choose: (head: Uint8Array, ts: Picos) => StreamDecoder,
    /** The decoder that reports a gap or an end before `need` bytes came. */
    private readonly fallback: () => StreamDecoder,
    private readonly chooseForServer?: (first: Uint8Array, ts: Picos) => StreamDecoder,
  ) {}

  heldBytes(): number {
    return this.inner?.heldBytes?.() ?? 0;
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    if (this.inner) { this.inner.data(dir, bytes, ts); return; }
    if (bytes.length === 0) return;
    if (dir !== 'c2s') {
      if (!this.chooseForServer || this.head.length > 0) return;
      this.inner = this.chooseForServer(bytes, ts);
      this.inner.data(dir, bytes, ts);
      return;
    }
    if (this.head.length === 0) this.headTs = ts;
    const all = this.head.length === 0 ? bytes : concat(this.head, bytes);
    if (all.length < this.need) { this.head = all.slice(); return; }
    const first = all === bytes ? ts : this.headTs;
    this.inner = this.choose(all, first);
    this.head = new Uint8Array(0);
    this.inner.data(dir, all, first);
  }

  /** Once the decoder is chosen, straight to it (in place, when it takes offsets). */
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

  private pick(): StreamDecoder {
    this.inner ??= this.fallback();
    return this.inner;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
