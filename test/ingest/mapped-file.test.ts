import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/ingest/file-source.js';
import { copyCounters, mapCaptureFile } from '../../src/ingest/mapped-file.js';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import type { CapturedPacket, WriteFormat } from '../../src/ingest/types.js';
import { nativeAvailable } from '../../src/ingest/live/native.js';
import { makePackets, withTempDir } from './helpers.js';

let tmp: ReturnType<typeof withTempDir>;
beforeAll(() => { tmp = withTempDir(); });
afterAll(() => tmp.cleanup());

const packets = makePackets(3000, 91);

function writeFile(format: WriteFormat, name: string): string {
  const path = join(tmp.dir, name);
  const w = createCaptureWriter(format, fileSink(path), { mampid: 'mpM' });
  for (const p of packets) w.write(p.ts, p.data, p.wireLength);
  w.close();
  return path;
}

/** Every field of every packet, the bytes as a digest (deep-comparing 3000 views is slow). */
function describePacket(p: CapturedPacket): string {
  const digest = createHash('sha1').update(p.data).digest('hex');
  return `${p.ts} ${p.wireLength} ${p.linkType} ${p.iface} ${p.nic ?? '-'} ${p.mampid ?? '-'} ${p.data.length} ${digest}`;
}

async function readAll(path: string, opts: { chunkSize?: number; map: boolean }): Promise<{ got: string[]; mapped: boolean }> {
  const cap = await openCapture(path, opts);
  const got: string[] = [];
  for await (const batch of cap.batches()) for (const p of batch) got.push(describePacket(p));
  return { got, mapped: cap.mapped };
}

describe.runIf(nativeAvailable())('capture files read in place from a mapping', () => {
  for (const format of ['pcap', 'pcap-ns', 'pcapng', 'dpmi', 'dpmi-frames'] as const) {
    it(`${format}: the same packets as read(), with windows cutting records anywhere`, async () => {
      const path = writeFile(format, `m.${format}`);
      const want = await readAll(path, { map: false });
      expect(want.mapped).toBe(false);
      expect(want.got.length).toBe(3000);
      // 4093-byte windows: almost every window boundary falls inside a record.
      for (const chunkSize of [4093, 1 << 20]) {
        const { got, mapped } = await readAll(path, { chunkSize, map: true });
        expect(mapped).toBe(true);
        expect(got).toEqual(want.got);
      }
    });
  }

  it('maps windows over the file without copying, and unmaps once released', async () => {
    const path = writeFile('pcap', 'w.pcap');
    const before = copyCounters()!;
    const m = mapCaptureFile(path)!;
    expect(m.size).toBeGreaterThan(100_000);
    let total = 0;
    let windows = 0;
    for (const w of m.windows(65_536)) { total += w.length; windows++; }
    expect(total).toBe(m.size);
    expect(windows).toBe(Math.ceil(m.size / 65_536));
    expect(copyCounters()!.mappings).toBe(before.mappings + 1);
    m.close();
    m.close(); // idempotent
    expect(copyCounters()!.bytesCopied).toBe(before.bytesCopied);
  });

  it('leaves what it cannot map to read(): pipes, empty files', () => {
    expect(mapCaptureFile('/dev/null')).toBeUndefined();
    expect(mapCaptureFile(join(tmp.dir, 'missing.pcap'))).toBeUndefined();
  });
});
