import { recordsTo } from '../../src/ingest/batch.js';
import { describe, expect, it } from 'vitest';
import { createCaptureWriter, DpmiFileWriter, memorySink, PcapngWriter } from '../../src/ingest/formats/index.js';
import { DpmiUnpacker } from '../../src/ingest/dpmi/frames.js';
import type { WriteFormat } from '../../src/ingest/types.js';
import { Bytes, makePackets, readBytes } from './helpers.js';

const packets = makePackets(300, 42);
const snaplen = 700;

function expected(res: bigint, cut: number) {
  return packets.map((p) => ({
    ts: (p.ts / res) * res,
    data: Array.from(p.data.subarray(0, Math.min(p.data.length, cut))),
    wireLength: p.wireLength,
  }));
}

describe('write → read round trip', () => {
  for (const format of ['pcap', 'pcap-ns', 'pcapng', 'dpmi'] as WriteFormat[]) {
    it(`${format}: equal timestamps (at the format's resolution), data with snaplen cuts, wire lengths`, () => {
      const sink = memorySink();
      const w = createCaptureWriter(format, sink, { snaplen, mampid: 'mp7', nic: 'd02' });
      for (const p of packets) w.write(p.ts, p.data, p.wireLength);
      w.close();
      const { packets: got, reader } = readBytes(sink.bytes());
      expect(got.map(({ ts, data, wireLength }) => ({ ts, data, wireLength }))).toEqual(expected(w.resolution, snaplen));
      expect(reader.stats).toMatchObject({ packets: 300, malformedRecords: 0, truncated: false });
      expect(got.every((p) => p.linkType === 1)).toBe(true);
      if (format === 'dpmi') expect(got.every((p) => p.nic === 'd02' && p.mampid === 'mp7')).toBe(true);
    });
  }

  it('dpmi-frames: inner packets keep picoseconds; records cut to fit the 1500-byte MTU', () => {
    const sink = memorySink();
    const w = createCaptureWriter('dpmi-frames', sink, { mampid: 'mpA', nic: 'd00' });
    for (const p of packets) w.write(p.ts, p.data, p.wireLength);
    w.close();
    const maxInner = 1500 - 16 - 36;
    expect(w.stats.cutPackets).toBe(packets.filter((p) => p.data.length > maxInner).length);
    expect(w.stats.cutPackets).toBeGreaterThan(0);
    let unpacker!: DpmiUnpacker;
    const { packets: got, reader } = readBytes(sink.bytes(), undefined, (s) => (unpacker = new DpmiUnpacker(recordsTo(s))).sink);
    expect(got.map(({ ts, data, wireLength }) => ({ ts, data, wireLength }))).toEqual(expected(1n, maxInner));
    expect(got.every((p) => p.nic === 'd00' && p.mampid === 'mpA')).toBe(true);
    expect(reader.stats.packets).toBe(w.stats.frames);
    expect(unpacker.stats).toMatchObject({ frames: w.stats.frames, records: 300, lostFrames: 0, duplicateFrames: 0, malformedFrames: 0, flushes: 1 });
  });

  it('dpmi-frames with a snaplen below the MTU limit', () => {
    const sink = memorySink();
    const w = createCaptureWriter('dpmi-frames', sink, { snaplen, dpmiFrames: { mtu: 9000, flushAfter: 10_000_000_000n } });
    for (const p of packets) w.write(p.ts, p.data, p.wireLength);
    w.close();
    const { packets: got } = readBytes(sink.bytes(), undefined, (s) => new DpmiUnpacker(recordsTo(s)).sink);
    expect(got.map(({ ts, data, wireLength }) => ({ ts, data, wireLength }))).toEqual(expected(1n, snaplen));
    // Jumbo frames hold several 700-byte records each.
    expect(w.stats.frames).toBeLessThan(300 / 5);
  });

  it('big-endian µs pcap built by hand', () => {
    const b = new Bytes(false).u32(0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(101);
    b.u32(1_600_000_000).u32(999_999).u32(4).u32(40).u8(0x45, 0, 0, 40);
    b.u32(1_600_000_001).u32(5).u32(2).u32(2).u8(1, 2);
    const { packets: got, reader } = readBytes(b.done());
    expect(got).toEqual([
      { ts: 1_600_000_000_999_999_000_000n, data: [0x45, 0, 0, 40], wireLength: 40, linkType: 101, iface: 0 },
      { ts: 1_600_000_001_000_005_000_000n, data: [1, 2], wireLength: 2, linkType: 101, iface: 0 },
    ]);
    expect(reader.stats.malformedRecords).toBe(0);
  });

  it('pcapng with three interfaces: ns, 2^-20 s, and the default µs with their own link types', () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink, { linkType: 1 });
    const i1 = w.addInterface({ linkType: 101, tsresol: 0x80 | 20, name: 'raw0' });
    const i2 = w.addInterface({ linkType: 113, tsresol: 6 });
    const t = 1_700_000_000_000_000_000_000n;
    w.writeOn(0, t + 123_456_789_123n, Uint8Array.of(1));
    w.writeOn(i1, t + 500_000_000_000n, Uint8Array.of(2)); // 0.5 s: exact in 2^-20 ticks
    w.writeOn(i1, t + 1_000_000n, Uint8Array.of(3)); // 1 µs: floored to one tick of 953674.316… ps
    w.writeOn(i2, t + 7_654_321_000n, Uint8Array.of(4, 5), 99);
    w.close();
    const { packets: got } = readBytes(sink.bytes());
    expect(got).toEqual([
      { ts: t + 123_456_789_000n, data: [1], wireLength: 1, linkType: 1, iface: 0 },
      { ts: t + 500_000_000_000n, data: [2], wireLength: 1, linkType: 101, iface: 1 },
      { ts: t + 953_674n, data: [3], wireLength: 1, linkType: 101, iface: 1 },
      { ts: t + 7_654_000_000n, data: [4, 5], wireLength: 99, linkType: 113, iface: 2 },
    ]);
  });

  it('big-endian pcapng by hand: if_tsoffset, an unknown block skipped, a second section resets interfaces', () => {
    const b = new Bytes(false);
    const block = (type: number, body: (x: Bytes) => void): void => {
      const inner = new Bytes(false);
      body(inner);
      inner.pad4();
      b.u32(type).u32(inner.length + 12).bytes(inner.done()).u32(inner.length + 12);
    };
    block(0x0a0d0d0a, (x) => x.u32(0x1a2b3c4d).u16(1).u16(0).u64(0xffff_ffff_ffff_ffffn).u32(0));
    block(1, (x) => x.u16(1).u16(0).u32(0).u16(9).u16(1).u8(3, 0, 0, 0).u16(14).u16(8).u64(100n).u32(0)); // ms, +100 s
    block(0x0bad, (x) => x.u32(12345).u8(1, 2, 3));
    block(6, (x) => x.u32(0).u32(0).u32(2500).u32(3).u32(60).u8(9, 8, 7));
    block(5, (x) => x.u32(0).u32(0).u32(0)); // interface statistics: skipped
    block(0x0a0d0d0a, (x) => x.u32(0x1a2b3c4d).u16(1).u16(0).u64(0xffff_ffff_ffff_ffffn));
    block(1, (x) => x.u16(101).u16(0).u32(0)); // µs default
    block(6, (x) => x.u32(0).u32(0).u32(7).u32(1).u32(1).u8(0x45));
    block(6, (x) => x.u32(1).u32(0).u32(7).u32(1).u32(1).u8(0x45)); // interface 1 does not exist in section 2
    const { packets: got, reader } = readBytes(b.done());
    expect(got).toEqual([
      { ts: 102_500_000_000_000n, data: [9, 8, 7], wireLength: 60, linkType: 1, iface: 0 },
      { ts: 7_000_000n, data: [0x45], wireLength: 1, linkType: 101, iface: 0 },
    ]);
    expect(reader.stats.malformedRecords).toBe(1);
    expect(reader.problem).toMatch(/undeclared interface 1/);
  });

  it('DPMI 0.7 big-endian file (magic read swapped) round-trips with ps timestamps', () => {
    const sink = memorySink();
    const w = new DpmiFileWriter(sink, { littleEndian: false, mampid: 'mpBE', nic: 'eth1', comment: 'big' });
    for (const p of packets.slice(0, 50)) w.write(p.ts, p.data, p.wireLength);
    w.close();
    const bytes = sink.bytes();
    expect(Array.from(bytes.subarray(0, 2))).toEqual([0x8f, 0x1a]);
    const { packets: got, reader } = readBytes(bytes);
    expect(got.map(({ ts, data, wireLength }) => ({ ts, data, wireLength }))).toEqual(expected(1n, 1 << 20).slice(0, 50));
    expect(got[0]).toMatchObject({ nic: 'eth1', mampid: 'mpBE' });
    expect(reader).toMatchObject({ version: '0.7', littleEndian: false, mpid: 'mpBE', comment: 'big' });
  });

  it('DPMI 0.6 and 0.5 headers (no magic) by hand', () => {
    for (const version of ['0.6', '0.5'] as const) {
      const b = new Bytes(true).u32(3);
      if (version === '0.6') b.u8(0, 6);
      else b.u32(0).u32(5);
      b.bytes(new TextEncoder().encode('old-mp')).u8(...new Array(200 - 6).fill(0));
      b.pad4().bytes([0x61, 0x62, 0x63]);
      b.bytes([0x64, 0x30, 0x30, 0, 0, 0, 0, 0]).bytes([0x6d, 0x70, 0, 0, 0, 0, 0, 0]);
      b.u32(1000).u64(999_999_999_999n).u32(64).u32(2).u8(0xaa, 0xbb);
      const { packets: got, reader } = readBytes(b.done());
      expect(got).toEqual([{ ts: 1_000_999_999_999_999n, data: [0xaa, 0xbb], wireLength: 64, linkType: 1, iface: 0, nic: 'd00', mampid: 'mp' }]);
      expect(reader).toMatchObject({ version, mpid: 'old-mp', comment: 'abc' });
    }
  });
});
