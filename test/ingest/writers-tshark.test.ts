import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import type { WriteFormat } from '../../src/ingest/types.js';
import { epochToPicos, makePackets, run, toolAvailable, withTempDir } from './helpers.js';

let tmp: ReturnType<typeof withTempDir>;
beforeAll(() => {
  tmp = withTempDir();
});
afterAll(() => tmp.cleanup());
const haveTshark = toolAvailable('tshark') && toolAvailable('capinfos');

describe.skipIf(!haveTshark)('our writers, read by tshark and capinfos', () => {
  const packets = makePackets(200, 7);
  const snaplen = 1000;

  for (const [format, res] of [
    ['pcap', 1_000_000n],
    ['pcap-ns', 1_000n],
    ['pcapng', 1_000n],
  ] as [WriteFormat, bigint][]) {
    it(`${format}: packet count, ns timestamps, lengths and snaplen cuts`, () => {
      const path = join(tmp.dir, `w.${format}`);
      const w = createCaptureWriter(format, fileSink(path), { snaplen });
      expect(w.resolution).toBe(res);
      for (const p of packets) w.write(p.ts, p.data, p.wireLength);
      w.close();
      expect(w.stats.packets).toBe(200);
      expect(w.stats.cutPackets).toBe(packets.filter((p) => p.data.length > snaplen).length);

      const info = run('capinfos', ['-c', '-M', path]);
      expect(info).toMatch(/Number of packets:\s+200\b/);
      const lines = run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len'])
        .trim()
        .split('\n');
      expect(lines).toHaveLength(200);
      lines.forEach((line, i) => {
        const [epoch, len, caplen] = line.split('\t');
        const p = packets[i]!;
        expect(epochToPicos(epoch!)).toBe((p.ts / res) * res);
        expect(Number(len)).toBe(p.wireLength);
        expect(Number(caplen)).toBe(Math.min(p.data.length, snaplen));
      });
    });
  }

  it('dpmi-frames: tshark sees nanosecond pcap frames of EtherType 0x0810 to a multicast MAC', () => {
    const path = join(tmp.dir, 'w.frames.pcap');
    const w = createCaptureWriter('dpmi-frames', fileSink(path), { mampid: 'mp1' });
    for (const p of packets) w.write(p.ts, p.data, p.wireLength);
    w.close();
    const lines = run('tshark', ['-r', path, '-T', 'fields', '-e', 'eth.type', '-e', 'eth.dst', '-e', 'frame.len'])
      .trim()
      .split('\n');
    expect(lines).toHaveLength(w.stats.frames);
    expect(w.stats.frames).toBeGreaterThan(1);
    for (const line of lines) {
      const [type, dst, len] = line.split('\t');
      expect(type).toBe('0x0810');
      expect(dst).toBe('01:00:00:00:00:01');
      expect(Number(len)).toBeLessThanOrEqual(1514);
    }
  });
});
