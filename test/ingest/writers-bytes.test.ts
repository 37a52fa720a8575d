import { describe, expect, it } from 'vitest';
import { createCaptureWriter, memorySink } from '../../src/ingest/formats/index.js';

const ts = 1_700_000_000_123_456_789_012n; // 1700000000 s + 123456789012 ps

describe('writer byte layouts (hand-computed)', () => {
  it('dpmi 0.7 file: header, comment and one little-endian capture record', () => {
    const sink = memorySink();
    const w = createCaptureWriter('dpmi', sink, { mampid: 'mp-east', nic: 'd01', comment: 'hi', snaplen: 3 });
    w.write(ts, Uint8Array.of(1, 2, 3, 4, 5), 60);
    w.close();
    expect(sink.closed).toBe(true);
    const b = sink.bytes();
    const dv = new DataView(b.buffer);
    expect(Array.from(b.subarray(0, 8))).toEqual([0x6e, 0x9b, 0x3d, 0xc5, 0x47, 0xe2, 0x1a, 0x8f]);
    expect([dv.getUint16(8, true), dv.getUint16(10, true), dv.getUint16(12, true), dv.getUint16(14, true)]).toEqual([0, 7, 216, 2]);
    expect(new TextDecoder().decode(b.subarray(16, 23))).toBe('mp-east');
    expect(b[23]).toBe(0);
    expect(new TextDecoder().decode(b.subarray(216, 218))).toBe('hi');
    const r = 218;
    expect(Array.from(b.subarray(r, r + 8))).toEqual([0x64, 0x30, 0x31, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(b.subarray(r + 8, r + 15))).toBe('mp-east');
    expect(dv.getUint32(r + 16, true)).toBe(1_700_000_000);
    expect(dv.getBigUint64(r + 20, true)).toBe(123_456_789_012n);
    expect(dv.getUint32(r + 28, true)).toBe(60);
    expect(dv.getUint32(r + 32, true)).toBe(3);
    expect(Array.from(b.subarray(r + 36))).toEqual([1, 2, 3]);
    expect(w.stats).toEqual({ packets: 1, cutPackets: 1, frames: 0 });
  });

  it('pcap µs: floors ps to µs in the record header', () => {
    const sink = memorySink();
    const w = createCaptureWriter('pcap', sink);
    w.write(ts, Uint8Array.of(9, 9));
    w.close();
    const b = sink.bytes();
    const dv = new DataView(b.buffer);
    expect(dv.getUint32(0, true)).toBe(0xa1b2c3d4);
    expect(dv.getUint32(20, true)).toBe(1);
    expect([dv.getUint32(24, true), dv.getUint32(28, true), dv.getUint32(32, true), dv.getUint32(36, true)]).toEqual([
      1_700_000_000, 123_456, 2, 2,
    ]);
    expect(b.length).toBe(24 + 16 + 2);
  });

  it('dpmi-frames: sendhead in network order, records little-endian, flush flag on the last frame, 0xFFFE → 0', () => {
    const sink = memorySink();
    const w = createCaptureWriter('dpmi-frames', sink, { dpmiFrames: { firstSequence: 0xfffe } });
    w.write(ts, new Uint8Array(100));
    w.write(ts + 10_000_000_000n, new Uint8Array(100)); // 10 ms later: the first frame is sent
    w.close();
    const b = sink.bytes();
    const dv = new DataView(b.buffer);
    // Frame 1 at offset 24 (pcap header) + 16 (record header).
    let f = 40;
    expect(dv.getUint32(24 + 8, true)).toBe(14 + 16 + 36 + 100);
    expect(dv.getUint16(f + 12)).toBe(0x0810);
    expect([dv.getUint32(f + 14), dv.getUint32(f + 18), dv.getUint32(f + 22)]).toEqual([0xfffe, 1, 0]);
    expect([dv.getUint16(f + 26), dv.getUint16(f + 28)]).toEqual([0, 7]);
    expect(dv.getBigUint64(f + 30 + 20, true)).toBe(123_456_789_012n);
    // Sent 1 ms (the default flush interval) after its first record, floored to ns.
    expect(dv.getUint32(28, true)).toBe(124_456_789);
    f = 40 + 166 + 16;
    expect([dv.getUint32(f + 14), dv.getUint32(f + 18), dv.getUint32(f + 22)]).toEqual([0, 1, 1]);
    expect(w.stats.frames).toBe(2);
  });
});
