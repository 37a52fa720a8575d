import { recordsTo } from '../../src/ingest/batch.js';
import { describe, expect, it } from 'vitest';
import { createCaptureReader, createCaptureWriter, DpmiFileWriter, memorySink, PcapngWriter } from '../../src/ingest/formats/index.js';
import { DpmiUnpacker } from '../../src/ingest/dpmi/frames.js';
import type { CaptureFormat, WriteFormat } from '../../src/ingest/types.js';
import { seededRandom } from '../helpers/rng.js';
import { yieldToEventLoop } from '../helpers/yield.js';
import { makePackets, readBytes } from './helpers.js';

function written(format: WriteFormat, n: number, seed: number, maxLen = 1514): Uint8Array {
  const sink = memorySink();
  const w = createCaptureWriter(format, sink, { snaplen: 1200 });
  for (const p of makePackets(n, seed, { maxLen })) w.write(p.ts, p.data, p.wireLength);
  w.close();
  return sink.bytes();
}

const samples: [string, Uint8Array][] = [
  ['pcap', written('pcap', 40, 1)],
  ['pcap-ns', written('pcap-ns', 40, 2)],
  ['pcapng', written('pcapng', 40, 3)],
  ['dpmi', written('dpmi', 40, 4)],
  ['dpmi-frames', written('dpmi-frames', 60, 5)],
];

const unpacking = (s: (p: import('../../src/ingest/types.js').CapturedPacket) => void) => new DpmiUnpacker(recordsTo(s)).sink;

describe('chunking', () => {
  for (const [name, bytes] of samples) {
    it(`${name}: 1-byte, 7-byte and random chunks give the same packets as one chunk`, () => {
      const whole = readBytes(bytes, undefined, unpacking).packets;
      expect(whole.length).toBeGreaterThanOrEqual(40);
      const r = seededRandom(99);
      for (const chunks of [() => 1, () => 7, () => 1 + Math.floor(r() * 3000)]) {
        const { packets, reader } = readBytes(bytes, chunks, unpacking);
        expect(packets).toEqual(whole);
        expect(reader.stats).toMatchObject({ malformedRecords: 0, truncated: false });
      }
    });
  }
});

/** Offsets where a record ends, from the reader's own emitted views is circular: compute from the layout. */
function boundaries(name: string, bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  if (name === 'pcapng') {
    for (let off = 0; off < bytes.length; off += dv.getUint32(off + 4, true)) out.push(off);
  } else if (name === 'dpmi') {
    for (let off = 216; off < bytes.length; off += 36 + dv.getUint32(off + 32, true)) out.push(off);
  } else {
    for (let off = 24; off < bytes.length; off += 16 + dv.getUint32(off + 8, true)) out.push(off);
  }
  out.push(bytes.length);
  return out;
}

describe('truncation at every offset', () => {
  for (const [name, full] of samples.slice(0, 4)) {
    it(`${name}: no throw, complete records kept, truncated set exactly when cut mid-record`, () => {
      const small = readBytes(full).packets.length > 0 ? full.subarray(0, boundaries(name, full)[4]) : full;
      const bounds = boundaries(name, small);
      const fmt: CaptureFormat = name === 'pcap-ns' ? 'pcap' : (name as CaptureFormat);
      for (let cut = 1; cut <= small.length; cut++) {
        let count = 0;
        const reader = createCaptureReader(fmt, () => count++);
        reader.push(small.subarray(0, cut));
        reader.end();
        // pcapng's first "record" is the SHB+IDB pair: packets start at the third boundary.
        const complete = bounds.filter((b) => b <= cut).length - 1 - (name === 'pcapng' ? 2 : 0);
        expect(count).toBe(Math.max(0, complete));
        expect(reader.stats.truncated).toBe(!bounds.includes(cut));
        expect(reader.stats.malformedRecords).toBe(bounds.includes(cut) ? 0 : 1);
        expect(reader.stats.skippedBytes).toBe(cut - Math.max(0, ...bounds.filter((b) => b <= cut)));
      }
    });
  }
});

describe('corrupt length fields', () => {
  it('pcap: a corrupt caplen is counted once and the reader resynchronises on the next record', () => {
    const bytes = samples[0]![1].slice();
    const bounds = boundaries('pcap', bytes);
    new DataView(bytes.buffer).setUint32(bounds[3]! + 8, 0xfffffff0, true);
    const clean = readBytes(samples[0]![1]).packets;
    const { packets, reader } = readBytes(bytes);
    expect(packets).toEqual([...clean.slice(0, 3), ...clean.slice(4)]);
    expect(reader.stats.malformedRecords).toBe(1);
    expect(reader.stats.skippedBytes).toBe(bounds[4]! - bounds[3]!);
  });

  it('dpmi: a corrupt caplen is counted and later records are found again', () => {
    const bytes = samples[3]![1].slice();
    const bounds = boundaries('dpmi', bytes);
    new DataView(bytes.buffer).setUint32(bounds[5]! + 32, 0x7fffffff, true);
    const clean = readBytes(samples[3]![1]).packets;
    const { packets, reader } = readBytes(bytes);
    expect(packets).toEqual([...clean.slice(0, 5), ...clean.slice(6)]);
    expect(reader.stats.malformedRecords).toBe(1);
    expect(reader.stats.skippedBytes).toBe(bounds[6]! - bounds[5]!);
  });

  it('pcapng: an impossible block length stops cleanly without allocating it', () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink);
    w.write(1_000_000_000_000n, new Uint8Array(100));
    w.close();
    const good = sink.bytes();
    const huge = new Uint8Array(good.length + 12);
    huge.set(good);
    const dv = new DataView(huge.buffer);
    dv.setUint32(good.length, 6, true);
    dv.setUint32(good.length + 4, 0xfffffff0, true);
    const { packets, reader } = readBytes(huge, () => 5);
    expect(packets).toHaveLength(1);
    expect(reader.stats.malformedRecords).toBe(1);
    expect(reader.problem).toMatch(/impossible length/);
  });

  it('a plausible but large length waits for data without allocating ahead of it', () => {
    const sink = memorySink();
    const w = new DpmiFileWriter(sink);
    w.close();
    const head = sink.bytes();
    const rec = new Uint8Array(36 + 10);
    const dv = new DataView(rec.buffer);
    dv.setUint32(28, 262_144, true);
    dv.setUint32(32, 262_144, true);
    const before = process.memoryUsage().arrayBuffers;
    const reader = createCaptureReader('dpmi', () => undefined);
    reader.push(head);
    for (let i = 0; i < rec.length; i++) reader.push(rec.subarray(i, i + 1));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024);
    reader.end();
    expect(reader.stats).toMatchObject({ packets: 0, truncated: true });
  });
});

function bigEndianDpmi(): Uint8Array {
  const sink = memorySink();
  const w = new DpmiFileWriter(sink, { littleEndian: false });
  for (const p of makePackets(3, 16, { maxLen: 70 })) w.write(p.ts, p.data);
  w.close();
  return sink.bytes();
}

describe('fuzz: mutated and truncated inputs', () => {
  it('100k inputs for each reader input (pcap µs/ns, pcapng, DPMI LE/BE, DPMI frames in pcap, the frame unpacker): no throw, stats consistent', async () => {
    const r = seededRandom(2024);
    const tiny: [CaptureFormat | 'frame', Uint8Array][] = [
      ['pcap', written('pcap', 3, 11, 70)],
      ['pcap', written('pcap-ns', 3, 12, 70)],
      ['pcapng', written('pcapng', 3, 13, 70)],
      ['dpmi', written('dpmi', 3, 14, 70)],
      ['dpmi', bigEndianDpmi()],
      ['pcap', written('dpmi-frames', 4, 15, 70)],
    ];
    const frames: Uint8Array[] = [];
    readBytes(tiny[5]![1], undefined, () => (p) => frames.push(p.data.slice()));
    tiny.push(['frame', frames[0]!]);
    const extremes = [0, 0xffffffff, 0x7fffffff, 0x80000000, 1, 36, 0x0810];
    let inputs = 0;
    let anomalies = 0;
    let inconsistent = 0;
    const perInput = 100_000;
    const total = perInput * tiny.length;
    for (let i = 0; i < total; i++) {
      // Let the test worker answer vitest's RPC (a minute-long synchronous loop on a loaded
      // machine ends the run with "Timeout calling onTaskUpdate").
      if (i % 2_000 === 1_999) await yieldToEventLoop();
      const [fmt, base] = tiny[i % tiny.length]!;
      const m = base.slice(0, r() < 0.3 ? Math.floor(r() * base.length) : base.length);
      const dv = new DataView(m.buffer);
      const edits = 1 + Math.floor(r() * 4);
      for (let e = 0; e < edits && m.length > 4; e++) {
        const at = Math.floor(r() * (m.length - 4));
        if (r() < 0.5) m[at] = Math.floor(r() * 256);
        else dv.setUint32(at, extremes[Math.floor(r() * extremes.length)]!, r() < 0.5);
      }
      inputs++;
      let delivered = 0;
      const sink = (p: import('../../src/ingest/types.js').CapturedPacket): void => {
        if (p.wireLength < p.data.length || p.data.length > m.length) throw new Error('impossible packet');
        delivered++;
      };
      const unpacker = new DpmiUnpacker(recordsTo(sink));
      if (fmt === 'frame') {
        unpacker.sink({ ts: 0n, data: m, wireLength: m.length, linkType: 1, iface: 0 });
        anomalies += unpacker.stats.malformedFrames + unpacker.stats.lostFrames;
        continue;
      }
      const reader = createCaptureReader(fmt, unpacker.sink);
      const split = Math.floor(r() * m.length);
      reader.push(m.subarray(0, split));
      reader.push(m.subarray(split));
      reader.end();
      // Every reader packet is either passed through or a measurement frame (whose records are counted).
      if (delivered !== unpacker.stats.records + reader.stats.packets - unpacker.stats.frames) inconsistent++;
      // pcap accounting is exact: header + record headers + data + skipped bytes = input.
      if (fmt === 'pcap') {
        const s = reader.stats;
        const parsed = (s.skippedBytes ?? 0) < m.length ? 24 + 16 * s.packets + s.bytes : 0;
        if (parsed + (s.skippedBytes ?? 0) !== m.length) inconsistent++;
      }
      reader.push(m); // after end: ignored (counted as skipped), never a throw
      anomalies += reader.stats.malformedRecords;
    }
    expect(inputs).toBe(total);
    expect(inconsistent).toBe(0);
    // Mutations must actually have hit the parsers' validation paths.
    expect(anomalies).toBeGreaterThan(total / 6);
  }, 300_000); // 700k inputs: ~40–50 s alone, over 120 s on a loaded 2-core CI machine
});
