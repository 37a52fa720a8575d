import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '../../src/ingest/file-source.js';
import { ENTRY, ENTRY_STRIDE, nativeFlowOwner, PcapRecordIndex } from '../../src/ingest/record-index.js';
import { FlowSplitter } from '../../src/pipeline/ring/flow-split.js';
import { cleanTrace, pcapBytes, pcapRecords, recordOffsets, tempDir, withU32 } from '../hostile/craft-files.js';
import { rng } from '../hostile/craft-packets.js';
import { writeGeneratedTrace } from '../live/trace.js';

/**
 * The addon's record walk for file workers (native/record_index.cc) against the JS
 * reader and FlowSplitter it stands in for: the same owner for every packet (or a flow
 * would be decoded in two halves), the same packets listed with the same fields, and a
 * hand-over to the JS reader exactly at the first record it does not take.
 */
interface Listed { seq: number; len: number; wire: number; sec: number; psec: number; sum: number }

const sum = (b: Uint8Array, off: number, len: number): number => {
  let s = 0;
  for (let i = 0; i < len; i++) s = (s * 31 + b[off + i]!) >>> 0;
  return s;
};

/** Share `index` of `workers` as the JS reader and FlowSplitter see it, and the walk's stats. */
async function byReader(file: string, workers: number, index: number): Promise<Listed[]> {
  const splitter = new FlowSplitter(workers);
  const out: Listed[] = [];
  let seq = 0;
  for await (const b of (await openCapture(file)).packetBatches()) {
    for (let i = 0; i < b.length; i++, seq++) {
      const off = b.off[i]!, len = b.len[i]!;
      if (splitter.owner(b.buf[i]!, off, off + len, b.wire[i]!, b.linkType[i]!) !== index) continue;
      out.push({ seq, len, wire: b.wire[i]!, sec: b.sec[i]!, psec: b.psec[i]!, sum: sum(b.buf[i]!, off, len) });
    }
  }
  return out;
}

/** The same share as the addon lists it (no housekeeping stops), up to where it hands over. */
function byIndex(file: string, workers: number, index: number): { listed: Listed[]; ix: PcapRecordIndex } {
  const ix = PcapRecordIndex.open(file, workers, index, { capacity: 97 })!;
  expect(ix).toBeDefined();
  const listed: Listed[] = [];
  while (!ix.done) {
    const n = ix.walk(Number.POSITIVE_INFINITY, 0);
    for (let i = 0, at = 0; i < n; i++, at += ENTRY_STRIDE) {
      const e = ix.out;
      expect(e[at + ENTRY.own]).toBe(1);
      const off = e[at + ENTRY.off]!, len = e[at + ENTRY.len]!;
      listed.push({ seq: e[at + ENTRY.seq]!, len, wire: e[at + ENTRY.wire]!, sec: e[at + ENTRY.sec]!, psec: e[at + ENTRY.psec]!, sum: sum(ix.window, off, len) });
    }
  }
  ix.close();
  return { listed, ix };
}

describe('native record walk = JS reader + FlowSplitter', () => {
  const tmp = tempDir();
  const files: Record<string, string> = {};
  let clean = new Uint8Array(0);
  beforeAll(() => {
    files.openstack = join(tmp.dir, 'openstack.pcap');
    writeGeneratedTrace(files.openstack, 'pcap-ns', 5);
    files.kvm = cleanTrace(tmp.dir, 'kvm.pcap').file;
    clean = new Uint8Array(readFileSync(files.kvm));
    const offsets = recordOffsets(clean, 'pcap');
    files.cut = join(tmp.dir, 'cut.pcap');
    writeFileSync(files.cut, clean.subarray(0, clean.length - 100));
    files.badCaplen = join(tmp.dir, 'bad-caplen.pcap');
    writeFileSync(files.badCaplen, withU32(clean, offsets[700]! + 8, (256 << 20) + 1));
    files.dpmiFrames = join(tmp.dir, 'frames.pcap');
    writeGeneratedTrace(files.dpmiFrames, 'dpmi-frames', 5);
  });
  afterAll(() => tmp.cleanup());

  for (const name of ['openstack', 'kvm']) {
    it(`${name}: every share lists exactly the packets FlowSplitter gives it, walked to the end`, async () => {
      for (const workers of [2, 3]) {
        let total = 0;
        for (let index = 0; index < workers; index++) {
          const want = await byReader(files[name]!, workers, index);
          const { listed, ix } = byIndex(files[name]!, workers, index);
          expect(listed).toEqual(want);
          expect(ix.handover).toBe(false);
          expect(ix.packets).toBe(ix.nextSeq);
          total += listed.length;
        }
        // The shares together are the whole file, each packet once.
        expect(total).toBe((await byReader(files[name]!, 1, 0)).length);
      }
    });
  }

  it('hands over at a cut last record, at a bad record header and at the first DPMI measurement frame', async () => {
    const cutAt = recordOffsets(clean, 'pcap').filter((o) => o < clean.length - 100).at(-1)!;
    const cases: [string, number | undefined][] = [['cut', cutAt], ['badCaplen', recordOffsets(clean, 'pcap')[700]!], ['dpmiFrames', undefined]];
    for (const [name, at] of cases) {
      const { listed, ix } = byIndex(files[name]!, 2, 1);
      expect(ix.handover, name).toBe(true);
      if (at !== undefined) expect(ix.resumeAt.offset, name).toBe(at);
      // Up to the hand-over the walk listed what the reader gives share 1.
      const want = (await byReader(files[name]!, 2, 1)).filter((p) => p.seq < ix.nextSeq);
      expect(listed, name).toEqual(want);
    }
  });

  it('stops right after the first packet at or after the housekeeping time, whoever owns it', () => {
    const { records } = pcapRecords(clean);
    const target = records[1234]!;
    const ix = PcapRecordIndex.open(files.kvm!, 2, 0)!;
    let n = 0;
    // A µs pcap: picoseconds = µs · 10^6.
    while (!ix.done && !ix.atHousekeeping) n = ix.walk(target.sec, target.frac * 1_000_000);
    const first = records.findIndex((r) => r.sec > target.sec || (r.sec === target.sec && r.frac >= target.frac));
    expect(ix.atHousekeeping).toBe(true);
    expect(ix.out[(n - 1) * ENTRY_STRIDE + ENTRY.seq]).toBe(first);
    expect(ix.nextSeq).toBe(first + 1);
    ix.close();
  });

  it('the native owner equals FlowSplitter.owner on every packet of the traces, for 2, 3 and 7 workers', async () => {
    for (const name of ['openstack', 'kvm', 'dpmiFrames']) {
      const splitters = [2, 3, 7].map((w) => new FlowSplitter(w));
      for await (const b of (await openCapture(files[name]!)).packetBatches()) {
        for (let i = 0; i < b.length; i++) {
          const off = b.off[i]!, end = off + b.len[i]!;
          for (const s of splitters) {
            const w = (s as unknown as { workers: number }).workers;
            expect(nativeFlowOwner(b.buf[i]!, off, end, b.wire[i]!, b.linkType[i]!, w)).toBe(s.owner(b.buf[i]!, off, end, b.wire[i]!, b.linkType[i]!));
          }
        }
      }
    }
  });

  it('the native owner equals FlowSplitter.owner on 40 000 crafted and mangled headers of every link type', () => {
    const next = rng(12);
    const splitters = new Map([2, 3, 7].map((w) => [w, new FlowSplitter(w)]));
    let differing = 0;
    let spread = 0;
    const examples: string[] = [];
    for (let n = 0; n < 40_000; n++) {
      const { bytes, linkType } = craftPacket(next);
      // Cut anywhere, and a wire length that may be shorter or longer than what is there.
      const end = next() % 4 === 0 ? next() % (bytes.length + 1) : bytes.length;
      const wire = next() % 3 === 0 ? next() % 2000 : end;
      for (const [w, s] of splitters) {
        const want = s.owner(bytes, 0, end, wire, linkType);
        if (want !== 0) spread++;
        if (nativeFlowOwner(bytes, 0, end, wire, linkType, w) !== want) {
          differing++;
          if (examples.length < 3) examples.push(`${linkType} ${end} ${wire} ${Buffer.from(bytes.subarray(0, end)).toString('hex')}`);
        }
      }
    }
    expect(examples).toEqual([]);
    expect(differing).toBe(0);
    // Not only the "worker 0" answers of unparseable packets: many reach the hash.
    expect(spread).toBeGreaterThan(10_000);
  });
});

/** A packet header stack with random (often wrong) fields: VLAN tags, IPv4/IPv6 with options and extension headers, TCP/UDP/ICMP. */
function craftPacket(next: () => number): { bytes: Uint8Array; linkType: number } {
  const b: number[] = [];
  const u8 = (v: number): void => { b.push(v & 0xff); };
  const u16 = (v: number): void => { u8(v >>> 8); u8(v); };
  const junk = (n: number): void => { for (let i = 0; i < n; i++) u8(next()); };
  const linkTypes = [1, 1, 1, 1, 113, 276, 101, 228, 229, 0, 108, 2];
  const linkType = linkTypes[next() % linkTypes.length]!;
  const v6 = next() % 3 === 0;
  const etherType = next() % 8 === 0 ? [0x0806, 0x0500, 0x88cc][next() % 3]! : v6 ? 0x86dd : 0x0800;
  if (linkType === 1) {
    junk(12);
    const tags = next() % 4 === 0 ? next() % 10 : 0;
    for (let t = 0; t < tags; t++) { u16([0x8100, 0x88a8, 0x9100][next() % 3]!); u16(next()); }
    u16(etherType);
  } else if (linkType === 113) { junk(14); u16(etherType); } else if (linkType === 276) { u16(etherType); junk(18); } else if (linkType === 0 || linkType === 108) {
    const family = [2, 10, 24, 28, 30, 7][next() % 6]!;
    if (next() % 2 === 0) { u8(family); u8(0); u8(0); u8(0); } else { u8(0); u8(0); u8(0); u8(family); }
  }
  const protos = [6, 17, 1, 58, 2, 6, 17];
  let proto = protos[next() % protos.length]!;
  if (!v6) {
    const ihl = next() % 6 === 0 ? next() % 16 : 5 + (next() % 3);
    u8((next() % 10 === 0 ? next() % 16 : 4) << 4 | ihl);
    u8(0);
    u16(next() % 5 === 0 ? 0 : next() % 5 === 0 ? next() % 80 : 20 + ihl * 4 + 40);
    u16(next());
    u16(next() % 4 === 0 ? next() & 0x3fff : next() % 2 ? 0x4000 : 0);
    u8(64); u8(proto); u16(0);
    junk(8);
    junk(Math.max(0, ihl - 5) * 4);
  } else {
    u8((next() % 10 === 0 ? next() % 16 : 6) << 4); junk(3);
    u16(next() % 5 === 0 ? 0 : 40 + (next() % 100));
    const exts = next() % 3 === 0 ? 1 + (next() % 4) : 0;
    const chain = [0, 43, 60, 44, 51, 135, 139, 140];
    const kinds = Array.from({ length: exts }, () => chain[next() % chain.length]!);
    u8(kinds[0] ?? proto); u8(64);
    junk(32);
    for (let k = 0; k < kinds.length; k++) {
      const nextHeader = kinds[k + 1] ?? proto;
      u8(nextHeader);
      const lenField = next() % 3;
      u8(kinds[k] === 44 ? 0 : lenField);
      if (kinds[k] === 44) { u16(next() % 2 ? next() : 0); junk(4); } else junk(kinds[k] === 51 ? (lenField + 2) * 4 - 2 : (lenField + 1) * 8 - 2);
    }
    if (proto === 1) proto = 58;
  }
  if (proto === 6) { u16(next()); u16(next()); junk(8); u8((next() % 6 === 0 ? next() % 16 : 5) << 4); junk(7); }
  else if (proto === 17) { u16(next()); u16(next()); u16(next() % 4 === 0 ? next() % 9 : 8 + (next() % 40)); u16(0); }
  else if (proto === 1 || proto === 58) { u8([0, 8, 128, 129, 3][next() % 5]!); junk(7); }
  junk(next() % 24);
  return { bytes: Uint8Array.from(b), linkType };
}
