import type { Direction } from '../../src/decode/types.js';
import type { Emit, ProtocolMessage, StreamDecoder } from '../../src/protocols/types.js';
import type { Segment } from './stream-helpers.js';

const INTERESTING = [0x00, 0xff, 0xce, 0x0a, 0x0d, 0x20, 0x3a, 0x30, 0x7b, 0x7f, 0x80, 0x01, 0x08, 0x41];

/** One random mutation of `b`: bit flip, interesting byte, deletion, insertion/duplication, truncation. */
export function mutate(b: Uint8Array, rand: () => number): Uint8Array {
  if (b.length === 0) return Uint8Array.of(Math.floor(rand() * 256));
  const at = Math.floor(rand() * b.length);
  switch (Math.floor(rand() * 6)) {
    case 0: { const c = b.slice(); c[at] = c[at]! ^ (1 << Math.floor(rand() * 8)); return c; }
    case 1: { const c = b.slice(); c[at] = INTERESTING[Math.floor(rand() * INTERESTING.length)]!; return c; }
    case 2: {
      const end = Math.min(b.length, at + 1 + Math.floor(rand() * 16));
      const c = new Uint8Array(b.length - (end - at));
      c.set(b.subarray(0, at));
      c.set(b.subarray(end), at);
      return c;
    }
    case 3: {
      const n = 1 + Math.floor(rand() * 32);
      const ins = new Uint8Array(n);
      const copyFrom = Math.floor(rand() * b.length);
      for (let i = 0; i < n; i++) ins[i] = rand() < 0.5 ? Math.floor(rand() * 256) : b[(copyFrom + i) % b.length]!;
      const c = new Uint8Array(b.length + n);
      c.set(b.subarray(0, at)); c.set(ins, at); c.set(b.subarray(at), at + n);
      return c;
    }
    case 4: return b.slice(0, at);
    default: { const c = b.slice(); const v = Math.floor(rand() * 256); for (let i = at; i < Math.min(c.length, at + 8); i++) c[i] = v; return c; }
  }
}

export interface FuzzTally { inputs: number; messages: number; anomalies: number; bytes: number; thrown: number; firstError?: string }

/**
 * Feeds one mutated, re-chunked variant of `corpus` (a conversation) to a fresh decoder,
 * with random gaps and ends, checking every emitted message's shape. Exceptions are
 * counted (the test asserts there are none).
 */
export function fuzzOnce(make: (emit: Emit) => StreamDecoder, corpus: Segment[], rand: () => number, tally: FuzzTally,
  check: (m: ProtocolMessage) => void): void {
  const emit = (m: ProtocolMessage): void => {
    if (m.protocol === 'anomaly') tally.anomalies += m.count; else tally.messages++;
    check(m);
  };
  const d = make(emit);
  // A random window of the conversation, each segment mutated with some probability.
  const start = Math.floor(rand() * corpus.length);
  const count = 1 + Math.floor(rand() * Math.min(6, corpus.length - start));
  tally.inputs++;
  const input: Segment[] = [];
  for (let i = start; i < start + count; i++) {
    const seg = corpus[i]!;
    let bytes = seg.bytes;
    const mutations = rand() < 0.85 ? 1 + Math.floor(rand() * 3) : 0;
    for (let k = 0; k < mutations; k++) bytes = mutate(bytes, rand);
    input.push({ dir: seg.dir, ts: seg.ts, bytes });
  }
  try {
    for (const seg of input) {
      const bytes = seg.bytes;
      let off = 0;
      while (off < bytes.length) {
        const n = rand() < 0.3 ? 1 + Math.floor(rand() * 4) : 1 + Math.floor(rand() * 512);
        d.data(seg.dir, bytes.subarray(off, off + n), seg.ts);
        off += n;
        if (rand() < 0.01) d.gap(seg.dir, 1 + Math.floor(rand() * 2000), seg.ts);
      }
      tally.bytes += bytes.length;
    }
    const dirs: Direction[] = rand() < 0.5 ? ['c2s', 's2c'] : ['s2c', 'c2s'];
    for (const dir of dirs) if (rand() < 0.7) d.end(dir, 99n);
  } catch (err) {
    tally.thrown++;
    tally.firstError ??= err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  }
}
