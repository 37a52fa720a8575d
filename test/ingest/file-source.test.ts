import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigscopeError, SourceNotFoundError, UnknownFormatError } from '../../src/core/errors.js';
import { openCapture } from '../../src/ingest/file-source.js';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import type { WriteFormat } from '../../src/ingest/types.js';
import { makePackets, withTempDir, type TestPacket } from './helpers.js';

let tmp: ReturnType<typeof withTempDir>;
beforeAll(() => {
  tmp = withTempDir();
});
afterAll(() => tmp.cleanup());

const packets = makePackets(2000, 77);

function writeFile(format: WriteFormat, name: string, pkts: TestPacket[] = packets): string {
  const path = join(tmp.dir, name);
  const w = createCaptureWriter(format, fileSink(path), { mampid: 'mpF' });
  for (const p of pkts) w.write(p.ts, p.data, p.wireLength);
  w.close();
  return path;
}

describe('openCapture', () => {
  it('reads a file in small chunks; batch views stay valid while the consumer awaits', async () => {
    const path = writeFile('dpmi', 'a.cap');
    const cap = await openCapture(path, { chunkSize: 4093 });
    expect(cap.format).toBe('dpmi');
    let i = 0;
    let batches = 0;
    for await (const batch of cap.batches()) {
      batches++;
      await new Promise((r) => setImmediate(r)); // back-pressure / pacing between batches
      for (const p of batch) {
        const want = packets[i++]!;
        expect(p.ts).toBe(want.ts);
        expect(p.mampid).toBe('mpF');
        expect(Buffer.from(p.data).equals(Buffer.from(want.data))).toBe(true);
      }
    }
    expect(i).toBe(2000);
    expect(batches).toBeGreaterThan(100);
    expect(cap.stats).toMatchObject({ packets: 2000, malformedRecords: 0, truncated: false });
  });

  it('unpacks measurement-frame pcaps by default, passes them through on request', async () => {
    const path = writeFile('dpmi-frames', 'f.pcap');
    const cap = await openCapture(path, { chunkSize: 10_000 });
    let n = 0;
    for await (const batch of cap.batches()) {
      for (const p of batch) {
        expect(p.ts).toBe(packets[n]!.ts);
        n++;
      }
    }
    expect(n).toBe(2000);
    expect(cap.frameStats).toMatchObject({ records: 2000, lostFrames: 0, flushes: 1 });
    const raw = await openCapture(path, { unpackDpmiFrames: false });
    let frames = 0;
    for await (const batch of raw.batches()) frames += batch.filter((p) => p.data[12] === 0x08 && p.data[13] === 0x10).length;
    expect(frames).toBe(cap.frameStats.frames);
  });

  it('reads gzip-compressed captures transparently', async () => {
    const path = writeFile('pcapng', 'g.pcapng');
    const gz = join(tmp.dir, 'g.pcapng.gz');
    writeFileSync(gz, gzipSync(readFileSync(path)));
    const cap = await openCapture(gz, { chunkSize: 5000 });
    expect(cap).toMatchObject({ format: 'pcapng', gzip: true });
    let n = 0;
    for await (const batch of cap.batches()) {
      for (const p of batch) expect(p.ts).toBe((packets[n++]!.ts / 1000n) * 1000n);
    }
    expect(n).toBe(2000);
  });

  it('a truncated file keeps the packets before the cut and says so', async () => {
    const path = writeFile('pcap', 't.pcap', packets.slice(0, 10));
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 5));
    const cap = await openCapture(path);
    let n = 0;
    for await (const batch of cap.batches()) n += batch.length;
    expect(n).toBe(9);
    expect(cap.stats).toMatchObject({ packets: 9, truncated: true, malformedRecords: 1 });
    expect(cap.problem).toMatch(/truncated/);
  });

  it('errors: missing file, unknown magic (named), empty file, a directory', async () => {
    await expect(openCapture(join(tmp.dir, 'nope.pcap'))).rejects.toBeInstanceOf(SourceNotFoundError);
    const junk = join(tmp.dir, 'junk.pcap');
    writeFileSync(junk, 'GET / HTTP/1.1\r\n\r\n');
    await expect(openCapture(junk)).rejects.toThrow(UnknownFormatError);
    await expect(openCapture(junk)).rejects.toThrow(/first bytes 47 45 54 20 2f 20 48 54/);
    const empty = join(tmp.dir, 'empty.pcap');
    writeFileSync(empty, '');
    await expect(openCapture(empty)).rejects.toThrow(/empty file/);
    const dir = join(tmp.dir, 'adir');
    mkdirSync(dir);
    await expect(openCapture(dir)).rejects.toBeInstanceOf(MigscopeError);
  });

  it('constant memory: a 40 MB file read in 1 MiB chunks', async () => {
    const big = makePackets(1, 5, { maxLen: 1514 })[0]!;
    const path = join(tmp.dir, 'big.pcap');
    const w = createCaptureWriter('pcap', fileSink(path));
    for (let i = 0; i < 26_000; i++) w.write(big.ts + BigInt(i) * 1_000_000n, big.data);
    w.close();
    const cap = await openCapture(path);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let n = 0;
    for await (const batch of cap.batches()) {
      n += batch.length;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    expect(n).toBe(26_000);
    expect(peak).toBeLessThan(8 << 20);
  });
});

describe('openCapture on a cut .gz', () => {
  it('keeps what decompressed and reports the capture as truncated', async () => {
    const path = writeFile('pcap', 'cut.pcap', packets.slice(0, 300));
    const gz = gzipSync(readFileSync(path));
    const cutPath = join(tmp.dir, 'cut.pcap.gz');
    writeFileSync(cutPath, gz.subarray(0, Math.floor(gz.length / 2)));
    const cap = await openCapture(cutPath, { chunkSize: 2048 });
    let n = 0;
    for await (const batch of cap.batches()) {
      for (const p of batch) expect(p.ts).toBe((packets[n++]!.ts / 1_000_000n) * 1_000_000n);
    }
    expect(n).toBeGreaterThan(50);
    expect(n).toBeLessThan(300);
    expect(cap.stats.truncated).toBe(true);
    expect(cap.problem).toMatch(/gzip stream damaged or cut/);
  });
});
