import { describe, expect, it } from 'vitest';
import { Dissector } from '../../src/dissect/dissector.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { Conversation } from './helpers/conversation.js';
import { pkt } from '../helpers/packets.js';
import { RecordingAnalyzer, collect, patternBytes } from './helpers/recorder.js';

const T0 = 1_700_000_000_000_000_000_000n;

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x >>> 8; };
}

/**
 * Ground truth for any arrival order: each stream byte is delivered once, in order, with
 * the timestamp of the first segment that brought it (later copies are retransmissions).
 */
function runOrder(segs: { a: number; b: number; ts: bigint }[], stream: Uint8Array, conv: Conversation): {
  bytes: Uint8Array; tsOf: bigint[]; gaps: number[]; d: Dissector; msgs: ProtocolMessage[]; maxHeld: number;
} {
  const an = new RecordingAnalyzer('libvirt', [16509]);
  const { emit, msgs } = collect();
  const d = new Dissector(emit, { analyzers: [an] });
  for (const p of conv.handshake(T0)) d.packet(p);
  let maxHeld = 0;
  for (const s of segs) {
    d.packet(conv.data(true, s.a, stream.subarray(s.a, s.b), s.ts));
    const f = d.flows[0];
    if (f) maxHeld = Math.max(maxHeld, f.c2s!.heldRanges);
  }
  d.finish();
  const rec = an.flows[0]!;
  const tsOf: bigint[] = [];
  for (const e of rec.events) if (e.dir === 'c2s' && e.type === 'data') for (let i = 0; i < e.len; i++) tsOf.push(e.ts);
  return { bytes: rec.bytes('c2s'), tsOf, gaps: rec.gaps('c2s'), d, msgs, maxHeld };
}

function firstArrival(segs: { a: number; b: number; ts: bigint }[], n: number): bigint[] {
  const ts: (bigint | undefined)[] = new Array(n);
  for (const s of segs) for (let o = s.a; o < s.b; o++) ts[o] ??= s.ts;
  return ts as bigint[];
}

describe('out-of-order reassembly: ordered ranges that merge', () => {
  const stream = patternBytes(5000, 9);

  it('1-byte segments in descending order: one merged range, exact bytes and timestamps', () => {
    const segs = [];
    for (let o = stream.length - 1; o >= 0; o--) segs.push({ a: o, b: o + 1, ts: T0 + 100n + BigInt(stream.length - o) });
    const r = runOrder(segs, stream, new Conversation());
    expect(r.bytes).toEqual(stream);
    expect(r.tsOf).toEqual(firstArrival(segs, stream.length));
    expect(r.maxHeld).toBe(1);
    expect(r.gaps).toEqual([]);
  });

  it('random orders with duplicates, random sizes, across the 2^32 wrap: exact bytes and first-arrival timestamps', () => {
    for (let trial = 0; trial < 20; trial++) {
      const next = rng(trial + 1);
      const cuts: number[] = [0];
      while (cuts[cuts.length - 1]! < stream.length) cuts.push(Math.min(stream.length, cuts[cuts.length - 1]! + 1 + next() % (trial % 2 === 0 ? 3 : 300)));
      const segs: { a: number; b: number; ts: bigint }[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) segs.push({ a: cuts[i]!, b: cuts[i + 1]!, ts: 0n });
      // Overlapping retransmissions spanning several segments.
      for (let k = 0; k < 30; k++) {
        const a = next() % stream.length;
        segs.push({ a, b: Math.min(stream.length, a + 1 + next() % 700), ts: 0n });
      }
      for (let i = segs.length - 1; i > 0; i--) { const j = next() % (i + 1); [segs[i], segs[j]] = [segs[j]!, segs[i]!]; }
      segs.forEach((s, i) => { s.ts = T0 + 100n + BigInt(i); });
      const conv = new Conversation({ cIsn: (0xffffffff - (next() % 6000)) >>> 0 });
      const r = runOrder(segs, stream, conv);
      expect(r.bytes).toEqual(stream);
      expect(r.tsOf).toEqual(firstArrival(segs, stream.length));
      expect(r.gaps).toEqual([]);
      expect(r.msgs.filter((m) => m.protocol === 'anomaly' && m.kind === 'tcp-overlap')).toEqual([]);
    }
  });

  it('snaplen-cut out-of-order segments: captured parts delivered, cut parts are gaps of their exact length', () => {
    const an = new RecordingAnalyzer('libvirt', [16509]);
    const { emit } = collect();
    const d = new Dissector(emit, { analyzers: [an] });
    const conv = new Conversation();
    for (const p of conv.handshake(T0)) d.packet(p);
    // Segments of 100 bytes, 10 captured each, in descending order.
    for (let i = 9; i >= 0; i--) {
      const full = conv.data(true, i * 100, stream.subarray(i * 100, i * 100 + 100), T0 + 10n + BigInt(9 - i));
      d.packet(pkt(full.data.subarray(0, 54 + 10), full.ts, 1, full.data.length));
    }
    d.finish();
    const rec = an.flows[0]!;
    const kinds = rec.events.filter((e) => e.dir === 'c2s' && e.type !== 'end').map((e) => `${e.type}:${e.len}`);
    expect(kinds).toEqual(Array.from({ length: 10 }, () => ['data:10', 'gap:90']).flat());
    expect(rec.bytes('c2s').subarray(10, 20)).toEqual(stream.subarray(100, 110));
  });
});
