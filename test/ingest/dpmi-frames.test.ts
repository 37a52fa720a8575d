import { recordsTo } from '../../src/ingest/batch.js';
import { describe, expect, it } from 'vitest';
import { DpmiUnpacker } from '../../src/ingest/dpmi/frames.js';
import type { CapturedPacket } from '../../src/ingest/types.js';
import { Bytes } from './helpers.js';

const DST = [0x01, 0, 0, 0, 0, 0x01];

/** One measurement frame by hand: Ethernet + sendhead (network order) + little-endian records. */
function frame(seq: number, records: { sec: number; psec: bigint; payload: number[]; len?: number }[], opts: { flags?: number; dst?: number[]; nopkts?: number } = {}): Uint8Array {
  const b = new Bytes(false).bytes(opts.dst ?? DST).bytes([2, 0, 0, 0, 0, 9]).u16(0x0810);
  b.u32(seq).u32(opts.nopkts ?? records.length).u32(opts.flags ?? 0).u16(0).u16(7);
  for (const r of records) {
    const le = new Bytes(true).bytes([0x64, 0x30, 0x30, 0, 0, 0, 0, 0]).bytes([0x6d, 0x70, 0x31, 0, 0, 0, 0, 0]);
    le.u32(r.sec).u64(r.psec).u32(r.len ?? r.payload.length).u32(r.payload.length).bytes(r.payload);
    b.bytes(le.done());
  }
  return b.done();
}

function pkt(data: Uint8Array): CapturedPacket {
  return { ts: 0n, data, wireLength: data.length, linkType: 1, iface: 3 };
}

function run(frames: Uint8Array[]): { out: CapturedPacket[]; u: DpmiUnpacker } {
  const out: CapturedPacket[] = [];
  const u = new DpmiUnpacker(recordsTo((p) => out.push({ ...p, data: p.data.slice() })));
  for (const f of frames) u.sink(pkt(f));
  return { out, u };
}

const rec = (i: number) => ({ sec: 1000 + i, psec: BigInt(i) * 1_000_000_007n, payload: [i, i + 1, i + 2] });

describe('DPMI measurement frames', () => {
  it('unpacks records with ps timestamps, nic and mampid; other packets pass through', () => {
    const other = Uint8Array.of(...DST, 2, 0, 0, 0, 0, 9, 0x08, 0x00, 0x45);
    const { out, u } = run([frame(5, [rec(1), rec(2)]), other]);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatchObject({ ts: 1001_001_000_000_007n, wireLength: 3, linkType: 1, iface: 3, nic: 'd00', mampid: 'mp1' });
    expect(Array.from(out[1]!.data)).toEqual([2, 3, 4]);
    expect(Array.from(out[2]!.data)).toEqual(Array.from(other));
    expect(u.stats).toMatchObject({ frames: 1, records: 2, lostFrames: 0, streams: 1 });
  });

  it('a gap of k frames counts k lost frames', () => {
    const { out, u } = run([frame(10, [rec(1)]), frame(11, [rec(2)]), frame(15, [rec(3)]), frame(16, [rec(4)])]);
    expect(out).toHaveLength(4);
    expect(u.stats.lostFrames).toBe(3);
  });

  it('a frame seen twice (loopback) is ignored and counted', () => {
    const f = frame(100, [rec(1)]);
    const { out, u } = run([f, f, frame(101, [rec(2)]), frame(101, [rec(2)])]);
    expect(out.map((p) => p.data[0])).toEqual([1, 2]);
    expect(u.stats).toMatchObject({ duplicateFrames: 2, lostFrames: 0 });
  });

  it('wraps 0xFFFE → 0 (the reference sender counts mod 0xFFFF) without loss, and counts a gap across the wrap', () => {
    const a = run([frame(0xfffd, [rec(1)]), frame(0xfffe, [rec(2)]), frame(0, [rec(3)]), frame(1, [rec(4)])]);
    expect(a.u.stats).toMatchObject({ lostFrames: 0, sequenceResets: 0 });
    const b = run([frame(0xfffd, [rec(1)]), frame(2, [rec(2)])]); // 0xfffe, 0, 1 missing
    expect(b.u.stats.lostFrames).toBe(3);
    // A sender that does send 0xFFFF (counting mod 0x10000): accepted, no loss either.
    const c = run([frame(0xfffe, [rec(1)]), frame(0xffff, [rec(2)]), frame(0, [rec(3)])]);
    expect(c.out).toHaveLength(3);
    expect(c.u.stats.lostFrames).toBe(0);
    const d = run([frame(0x10000, [rec(1)])]);
    expect(d.u.stats.malformedFrames).toBe(1);
  });

  it('tracks each sender separately: streams per multicast destination, and MPs sharing one by source MAC', () => {
    const other = [0x01, 0, 0, 0, 0, 0x02];
    const { u } = run([frame(1, [rec(1)]), frame(500, [rec(2)], { dst: other }), frame(2, [rec(3)]), frame(502, [rec(4)], { dst: other })]);
    expect(u.stats).toMatchObject({ streams: 2, lostFrames: 1 });
    const mp2 = (seq: number) => { const f = frame(seq, [rec(seq)]); f[11] = 0x0a; return f; };
    const shared = run([frame(10, [rec(1)]), mp2(7000), frame(11, [rec(2)]), mp2(7001), frame(12, [rec(3)]), mp2(7003)]);
    expect(shared.u.stats).toMatchObject({ streams: 2, lostFrames: 1, sequenceResets: 0 });
  });

  it('SENDER_FLUSH: the stream may restart at any number afterwards (a restart, not a loss)', () => {
    const { out, u } = run([frame(7, [rec(1)]), frame(8, [], { flags: 1 }), frame(8, [], { flags: 1 }), frame(300, [rec(2)])]);
    expect(out).toHaveLength(2);
    expect(u.stats).toMatchObject({ flushes: 1, duplicateFrames: 1, lostFrames: 0, sequenceResets: 1 });
    // The reference sender restarting after 3000 frames: back to 0, no loss.
    const r = run([frame(2999, [rec(1)]), frame(3000, [rec(2)], { flags: 1 }), frame(0, [rec(3)]), frame(1, [rec(4)])]);
    expect(r.u.stats).toMatchObject({ lostFrames: 0, sequenceResets: 1 });
    // Without the flush (the sender crashed): a jump far back is a restart too.
    const x = run([frame(2999, [rec(1)]), frame(0, [rec(2)]), frame(1, [rec(3)])]);
    expect(x.u.stats).toMatchObject({ lostFrames: 0, sequenceResets: 1 });
  });

  it('reordered frames are late, not lost; a duplicate of an older frame is still a duplicate', () => {
    const { out, u } = run([frame(5, [rec(1)]), frame(7, [rec(2)]), frame(6, [rec(3)]), frame(8, [rec(4)]), frame(6, [rec(3)])]);
    expect(out.map((p) => p.data[0])).toEqual([1, 2, 3, 4]);
    expect(u.stats).toMatchObject({ lostFrames: 0, reorderedFrames: 1, duplicateFrames: 1 });
    // Across the wrap as well; a frame that never comes stays lost.
    const w = run([frame(0xfffc, [rec(1)]), frame(0, [rec(2)]), frame(0xfffe, [rec(3)]), frame(1, [rec(4)])]);
    expect(w.u.stats).toMatchObject({ lostFrames: 1, reorderedFrames: 1 });
  });

  it('malformed frames: records before the fault kept, the frame counted', () => {
    const f = frame(1, [rec(1), rec(2)], { nopkts: 5 });
    const short = frame(2, [rec(3)]).subarray(0, 14 + 16 + 20);
    const bigCaplen = frame(3, [rec(4)]);
    new DataView(bigCaplen.buffer).setUint32(14 + 16 + 32, 0xfffffff0, true);
    const tiny = frame(4, []).subarray(0, 20);
    const { out, u } = run([f, short, bigCaplen, tiny]);
    expect(out.map((p) => p.data[0])).toEqual([1, 2]);
    expect(u.stats.malformedFrames).toBe(4);
    expect(u.problem).toMatch(/claims 5 records, holds 2/);
  });
});

describe('MAMPID filter', () => {
  it('delivers only the chosen measurement point, counts the rest as filtered', () => {
    const mk = (mp: string, i: number): Uint8Array => {
      const f = frame(i, [rec(i)]);
      const name = new TextEncoder().encode(mp.padEnd(8, '\0'));
      f.set(name, 14 + 16 + 8);
      return f;
    };
    const out: string[] = [];
    const u = new DpmiUnpacker(recordsTo((p) => out.push(p.mampid!)), { mampid: 'east' });
    [mk('east', 1), mk('west', 2), mk('east', 3)].forEach((f) => u.sink(pkt(f)));
    expect(out).toEqual(['east', 'east']);
    expect(u.stats).toMatchObject({ records: 2, filteredRecords: 1, lostFrames: 0 });
  });
});
