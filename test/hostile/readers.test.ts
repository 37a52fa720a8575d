/**
 * Capture readers on hostile and unusual inputs: pipes and FIFOs, corrupt records
 * (resynchronisation must recover every real record after the bad one), truncated
 * files. Each case is built from a clean generated trace whose events are the truth.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanTrace, concat, ndjson, ngPackets, pcapngSection, readBack, recordOffsets, runCli, tempDir, withU32,
} from './craft-files.js';

describe('captures from pipes', () => {
  const tmp = tempDir();
  let file = '';
  let reference: Record<string, unknown>[] = [];
  beforeAll(async () => {
    file = cleanTrace(tmp.dir, 'g.pcap').file;
    const r = await runCli(['analyze', '--json', file]);
    expect(r.code, r.stderr).toBe(0);
    reference = ndjson(r.stdout);
    expect(reference.filter((e) => e.type === 'migration-ended')).toHaveLength(1);
  });
  afterAll(() => tmp.cleanup());

  it('reads `-` (standard input) and /dev/stdin, plain and gzip-compressed', async () => {
    const bytes = new Uint8Array(readFileSync(file));
    const gz = new Uint8Array(spawnSync('gzip', ['-c', file], { maxBuffer: 64 << 20 }).stdout);
    for (const [name, input] of [['-', bytes], ['/dev/stdin', bytes], ['-', gz]] as const) {
      const r = await runCli(['analyze', '--json', name], { stdin: input });
      expect(r.code, r.stderr).toBe(0);
      expect(ndjson(r.stdout), name).toEqual(reference);
    }
  });

  it('reads a FIFO', async () => {
    const fifo = join(tmp.dir, 'capture.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', `cat '${file}' > '${fifo}'`]);
    const written = new Promise((res) => writer.on('close', res));
    const r = await runCli(['analyze', '--json', fifo]);
    await written;
    expect(r.code, r.stderr).toBe(0);
    expect(ndjson(r.stdout)).toEqual(reference);
  });

  it('an empty pipe is one line, exit 1', async () => {
    const r = await runCli(['analyze', '-'], { stdin: new Uint8Array(0) });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/-: not a pcap, pcapng or DPMI capture \(an empty file\)/);
  });
});

describe('resynchronisation after a corrupt record', () => {
  const tmp = tempDir();
  let pcap = new Uint8Array(0);
  let dpmi = new Uint8Array(0);
  let pcapng = new Uint8Array(0);
  beforeAll(() => {
    pcap = new Uint8Array(readFileSync(cleanTrace(tmp.dir, 'g.pcap').file));
    dpmi = new Uint8Array(readFileSync(cleanTrace(tmp.dir, 'g.dpmi', 'dpmi').file));
    pcapng = pcapngSection({ interfaces: [{ linkType: 1 }], packets: ngPackets(pcap) });
  });
  afterAll(() => tmp.cleanup());

  const chunkings = [undefined, 1, 4093];

  for (const format of ['pcap', 'dpmi'] as const) {
    for (const [where, value] of [['first', 0xffffffff], ['first', 0x1000_0001], ['middle', 0xffffffff], ['middle', 0x7fff_fff0]] as const) {
      it(`${format}: ${where} record's caplen = 0x${value.toString(16)}: that record is lost, every later one is read`, () => {
        const clean = format === 'pcap' ? pcap : dpmi;
        const truth = readBack(clean);
        expect(truth.stats.malformedRecords).toBe(0);
        const offsets = recordOffsets(clean, format);
        const k = where === 'first' ? 0 : Math.floor(offsets.length / 2);
        const bad = withU32(clean, offsets[k]! + (format === 'pcap' ? 8 : 32), value);
        for (const chunk of chunkings) {
          const got = readBack(bad, chunk);
          expect(got.packets, `chunk ${chunk}`).toEqual([...truth.packets.slice(0, k), ...truth.packets.slice(k + 1)]);
          expect(got.stats.malformedRecords).toBe(1);
          expect(got.stats.skippedBytes).toBe(offsets[k + 1]! - offsets[k]!);
          expect(got.stats.truncated).toBe(false);
        }
      });
    }

    it(`${format}: 64 KiB of zeros or of random bytes between two records are skipped, nothing else is lost`, () => {
      const clean = format === 'pcap' ? pcap : dpmi;
      const truth = readBack(clean);
      const at = recordOffsets(clean, format)[100]!;
      let seed = 11;
      const random = Uint8Array.from({ length: 65_536 }, () => { seed = (seed * 48_271) % 2_147_483_647; return seed & 0xff; });
      for (const garbage of [new Uint8Array(65_536), random]) {
        const bad = concat([clean.subarray(0, at), garbage, clean.subarray(at)]);
        for (const chunk of chunkings) {
          const got = readBack(bad, chunk);
          expect(got.packets).toEqual(truth.packets);
          expect(got.stats.malformedRecords).toBe(1);
          expect(got.stats.skippedBytes).toBe(garbage.length);
        }
      }
    });
  }

  it('pcapng: a block with an impossible or a mismatched length is lost, every later block is read', () => {
    const truth = readBack(pcapng);
    const dv = new DataView(pcapng.buffer, pcapng.byteOffset, pcapng.byteLength);
    const blocks: number[] = [];
    for (let off = 0; off < pcapng.length; off += dv.getUint32(off + 4, true)) blocks.push(off);
    const k = 2 + Math.floor((blocks.length - 2) / 2); // an EPB (after SHB and IDB)
    const packet = k - 2;
    for (const [field, value] of [[4, 0xfffffff0], [4, 40], [dv.getUint32(blocks[k]! + 4, true) - 4, 7]] as const) {
      const bad = withU32(pcapng, blocks[k]! + field, value);
      for (const chunk of chunkings) {
        const got = readBack(bad, chunk);
        expect(got.packets, `field ${field} = ${value}, chunk ${chunk}`).toEqual([...truth.packets.slice(0, packet), ...truth.packets.slice(packet + 1)]);
        expect(got.stats.malformedRecords).toBe(1);
        expect(got.stats.skippedBytes).toBe(blocks[k + 1]! - blocks[k]!);
      }
    }
  });

  it('a file cut mid-record keeps every complete record and says it was truncated', () => {
    for (const clean of [pcap, dpmi, pcapng]) {
      const truth = readBack(clean);
      const cut = clean.subarray(0, clean.length - 7);
      const got = readBack(cut, 4093);
      expect(got.packets).toEqual(truth.packets.slice(0, -1));
      expect(got.stats.truncated).toBe(true);
      expect(got.stats.malformedRecords).toBe(1);
    }
  });
});

describe('a corrupt or cut file never looks clean in the event stream', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  /** Anomaly totals by kind, and the other events. */
  const split = (events: Record<string, unknown>[]): { phases: Record<string, unknown>[]; anomalies: Record<string, number> } => {
    const anomalies: Record<string, number> = {};
    for (const e of events) if (e.type === 'anomaly') anomalies[e.kind as string] = (anomalies[e.kind as string] ?? 0) + Number(e.count);
    return { phases: events.filter((e) => e.type !== 'anomaly'), anomalies };
  };

  for (const format of ['pcap', 'dpmi'] as const) {
    it(`${format}: first record's caplen 0xFFFFFFFF, then the end cut: counted by kind on both paths, the migration's events unchanged`, async () => {
      const { file } = cleanTrace(tmp.dir, `g.${format}`, format);
      const clean = new Uint8Array(readFileSync(file));
      const ref = await runCli(['analyze', '--json', file]);
      expect(ref.code, ref.stderr).toBe(0);
      const truth = split(ndjson(ref.stdout));
      expect(truth.anomalies).toEqual({});
      const offsets = recordOffsets(clean, format);
      const capAt = format === 'pcap' ? 8 : 32;
      // Record 0 is an ICMP echo long before the switch-over: losing it changes no event.
      let bad = withU32(clean, offsets[0]! + capAt, 0xffffffff);
      const broken = join(tmp.dir, `bad.${format}`);
      writeFileSync(broken, bad);
      let r = await runCli(['analyze', '--json', broken]);
      expect(r.code, r.stderr).toBe(0);
      let got = split(ndjson(r.stdout));
      expect(got.anomalies).toEqual({ 'malformed-record': 1 });
      expect(got.phases).toEqual(truth.phases);
      bad = bad.subarray(0, bad.length - 5);
      writeFileSync(broken, bad);
      r = await runCli(['analyze', '--json', broken]);
      got = split(ndjson(r.stdout));
      // The cut record is a malformed record too, and the cut is reported once.
      expect(got.anomalies).toEqual({ 'malformed-record': 2, 'truncated-file': 1 });
      expect(got.phases).toEqual(truth.phases);
      const table = await runCli(['analyze', broken]);
      expect(table.stdout).toMatch(/malformed-record 2/);
      expect(table.stdout).toMatch(/truncated-file 1/);
      const workers = await runCli(['analyze', '--json', '--workers', '2', broken]);
      expect(workers.code, workers.stderr).toBe(0);
      expect(split(ndjson(workers.stdout))).toEqual(got);
    });
  }
});
