import { describe, expect, it } from 'vitest';
import { createRing, RingConsumer } from '../../src/ingest/live/ring.js';
import { loadNative, openNativeCapture, ringLayoutMismatches } from '../../src/ingest/live/native.js';
import { RECORD_HEADER_BYTES } from '../../src/ingest/live/ring-layout.js';
import { PS_PER_S } from '../../src/core/time.js';

// Mirrors native/capture_session.h: the synthetic producer's deterministic records.
const payloadByte = (seq: number, i: number): number => (seq * 131 + i * 7 + (i >> 8)) & 0xff;
const lengthOf = (seq: number, min: number, max: number): number =>
  min + Number((BigInt(seq) * 2654435761n) % BigInt(max - min + 1));

function checkRecord(seq: number, data: Uint8Array, min: number, max: number): boolean {
  if (data.length !== lengthOf(seq, min, max)) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== payloadByte(seq, i)) return false;
  return true;
}

/** Drains until EOF, polling with bounded waits (the producer is a native thread). */
async function drainAll(c: RingConsumer, sink: (data: Uint8Array, seq: number, ts: bigint, wire: number) => void): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!c.ended) {
    if (Date.now() > deadline) throw new Error('ring never reached EOF');
    if (c.drain((p, seq) => sink(p.data, seq, p.ts, p.wireLength), 256) === 0) c.wait(1);
  }
}

describe('capture ring (native producer, JS consumer)', () => {
  it('keeps every record intact across many wrap-arounds of a small ring', async () => {
    const ring = createRing(4096);
    const min = 1, max = 700, count = 5000;
    const cap = openNativeCapture({ kind: 'synthetic', count, minLen: min, maxLen: max, blockWhenFull: true }, [ring]);
    const c = new RingConsumer(ring);
    cap.start();
    let expected = 0, bad = 0;
    await drainAll(c, (data, seq, ts, wire) => {
      if (seq !== expected || !checkRecord(seq, data, min, max) || wire !== data.length + 1000) bad++;
      if (ts !== BigInt(1_700_000_000 + Math.floor(seq / 1000)) * PS_PER_S + BigInt(seq % 1000) * 1_000_000_000n) bad++;
      expected++;
    });
    await cap.ended;
    expect(bad).toBe(0);
    expect(expected).toBe(count);
    // ~350 bytes average + 56 header through a 4 KiB ring: it must have wrapped hundreds of times.
    expect(c.wraps).toBeGreaterThan(300);
    expect(cap.stats().rings[0]).toEqual({ written: count, dropped: 0, droppedBytes: 0 });
  });

  it('counts exactly the records a full ring could not take, and still delivers EOF', async () => {
    // Fixed 200-byte records take 256 bytes each (56-byte header, 8-aligned); 8 bytes
    // stay reserved for the 32-byte EOF record: floor((4096 - 32) / 256) = 15 fit per ring.
    const rings = [createRing(4096), createRing(4096)];
    const cap = openNativeCapture({ kind: 'synthetic', count: 100, minLen: 200, maxLen: 200, blockWhenFull: false }, rings);
    cap.start();
    await cap.ended; // nobody consumed while the producer ran
    const s = cap.stats();
    expect(s.packets).toBe(100);
    expect(s.rings).toEqual([
      { written: 15, dropped: 35, droppedBytes: 35 * 200 },
      { written: 15, dropped: 35, droppedBytes: 35 * 200 },
    ]);
    for (let r = 0; r < 2; r++) {
      const c = new RingConsumer(rings[r]!);
      expect(c.droppedRecords).toBe(35);
      const seqs: number[] = [];
      await drainAll(c, (data, seq) => { expect(checkRecord(seq, data, 200, 200)).toBe(true); seqs.push(seq); });
      // Synthetic records go to ring seq % 2: the first 15 of each ring got in.
      expect(seqs).toEqual(Array.from({ length: 15 }, (_, i) => 2 * i + r));
    }
    expect(RECORD_HEADER_BYTES).toBe(56);
  });

  it('stops a running producer cleanly: EOF in every ring, thread joined', async () => {
    const rings = [createRing(1 << 16), createRing(1 << 16)];
    const cap = openNativeCapture({ kind: 'synthetic', count: 10_000_000, minLen: 64, maxLen: 64, blockWhenFull: true }, rings);
    cap.start();
    const consumers = rings.map((r) => new RingConsumer(r));
    let seen = 0;
    for (let i = 0; i < 200 && seen < 5000; i++) {
      for (const c of consumers) seen += c.drain(() => undefined, 1000);
      await new Promise((r) => setTimeout(r, 1));
    }
    cap.stop();
    await cap.ended;
    for (const c of consumers) await drainAll(c, () => { seen++; });
    const s = cap.stats();
    expect(s.packets).toBeLessThan(10_000_000);
    // Nothing lost: every packet produced was either delivered or counted as dropped.
    expect(seen + s.rings[0]!.dropped + s.rings[1]!.dropped).toBe(s.packets);
  });

  it('rejects rings that were not created by createRing', () => {
    const plain = new Uint8Array(new SharedArrayBuffer(8192));
    expect(() => openNativeCapture({ kind: 'synthetic', count: 1, minLen: 1, maxLen: 1 }, [plain])).toThrow(/not an initialised migscope ring/);
    expect(() => createRing(5000)).toThrow(RangeError);
  });

  it('rejects a ring over a plain ArrayBuffer, even one dressed up as shared', () => {
    // Same bytes as a valid ring, but the consumer could never see the producer's writes.
    const valid = createRing(4096);
    const plain = new Uint8Array(valid.length);
    plain.set(valid);
    const synth = { kind: 'synthetic', count: 1, minLen: 1, maxLen: 1 } as const;
    expect(() => openNativeCapture(synth, [plain])).toThrow(/SharedArrayBuffers/);
    const disguised = new Uint8Array(valid.length);
    disguised.set(valid);
    Object.setPrototypeOf(disguised.buffer, SharedArrayBuffer.prototype);
    expect(() => openNativeCapture(synth, [disguised])).toThrow(/SharedArrayBuffers/);
    expect(() => openNativeCapture(synth, [valid])).not.toThrow();
  });

  it('rejects integer options that a cast would truncate', () => {
    const ring = createRing(4096);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31, 2 ** 60]) {
      expect(() => openNativeCapture({ kind: 'synthetic', count: 1, minLen: bad, maxLen: 1 }, [ring])).toThrow(/option minLen must be an integer/);
    }
    expect(() => openNativeCapture({ kind: 'synthetic', count: -5, minLen: 1, maxLen: 1 }, [ring])).toThrow(/option count/);
  });

  it('compares every ring constant of the addon with ring-layout.ts', () => {
    const addon = loadNative();
    expect(ringLayoutMismatches(addon.ringLayout)).toEqual([]);
    expect(Object.keys(addon.ringLayout).length).toBeGreaterThanOrEqual(24);
    expect(ringLayoutMismatches({ ...addon.ringLayout, recSeq: 40 })).toEqual(['recSeq 40≠32']);
    const { recNic: _dropped, ...missing } = addon.ringLayout;
    expect(ringLayoutMismatches({ ...missing, extra: 1 })).toEqual(['recNic undefined≠40', 'extra unknown to ring-layout.ts']);
  });
});
