/**
 * `--workers` must give what the pure-TS path gives on inputs libpcap alone would
 * abandon: a record of 256 MiB + 1, a file cut mid-record, pcapng with sections in both
 * byte orders, interfaces of two link types, times before the epoch. File workers read
 * with migscope's own reader; with --filter (libpcap reads the file) such a file is
 * refused in one line instead of giving another result.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import {
  cleanTrace, concat, expectOneLine, ndjson, ngPackets, pcapngSection, recordOffsets, runCli, tempDir, withU32,
} from './craft-files.js';

describe('--workers on files libpcap would give up on', () => {
  const tmp = tempDir();
  let pcap = new Uint8Array(0);
  beforeAll(() => {
    requireCompiledWorker();
    pcap = new Uint8Array(readFileSync(cleanTrace(tmp.dir, 'g.pcap').file));
  });
  afterAll(() => tmp.cleanup());

  const cases: [string, () => Uint8Array][] = [
    ['a record caplen of 256 MiB + 1', () => withU32(pcap, recordOffsets(pcap, 'pcap')[500]! + 8, (256 << 20) + 1)],
    ['a file cut mid-record', () => pcap.subarray(0, pcap.length - 100)],
    ['pcapng sections in both byte orders', () => {
      const packets = ngPackets(pcap);
      const half = Math.floor(packets.length / 2);
      return concat([
        pcapngSection({ interfaces: [{ linkType: 1 }], packets: packets.slice(0, half) }),
        pcapngSection({ bigEndian: true, interfaces: [{ linkType: 1 }], packets: packets.slice(half) }),
      ]);
    }],
    ['pcapng interfaces of two link types (Ethernet, raw IPv4)', () => {
      // ICMP echoes travel on a raw-IP interface (their Ethernet header dropped), the rest on Ethernet.
      const packets = ngPackets(pcap).map((p) => (p.data[23] === 1 ? { iface: 1, ts: p.ts, data: p.data.subarray(14) } : p));
      return pcapngSection({ interfaces: [{ linkType: 1 }, { linkType: 101 }], packets });
    }],
    ['pcapng times before the epoch (negative if_tsoffset)', () => {
      const offset = -1_795_000_100n;
      const packets = ngPackets(pcap).map((p) => ({ ...p, ts: p.ts + offset * 10n ** 12n }));
      return pcapngSection({ interfaces: [{ linkType: 1, tsoffsetS: offset }], packets });
    }],
  ];

  for (const [name, build] of cases) {
    it(`${name}: the same events as the pure-TS path; --filter refuses it in one line`, async () => {
      const file = join(tmp.dir, `${name.replace(/\W+/g, '-')}.cap`);
      writeFileSync(file, build());
      const pure = await runCli(['analyze', '--json', file]);
      expect(pure.code, pure.stderr).toBe(0);
      const events = ndjson(pure.stdout);
      expect(events.filter((e) => e.type === 'migration-ended')).toHaveLength(1);
      const ring = await runCli(['analyze', '--json', '--workers', '2', file]);
      expect(ring.code, ring.stderr).toBe(0);
      expect(ndjson(ring.stdout)).toEqual(events);
      const filtered = await runCli(['analyze', '--json', '--workers', '2', '--filter', 'ip or not ip', file]);
      expect(filtered.code).toBe(2);
      expectOneLine(filtered.stderr, /libpcap would not read it as migscope's reader does \(.+\); --filter needs libpcap/);
    });
  }

  it('a clean file still goes through libpcap and the rings with --filter, with the same events', async () => {
    const file = join(tmp.dir, 'clean.pcap');
    writeFileSync(file, pcap);
    const pure = await runCli(['analyze', '--json', file]);
    const ring = await runCli(['analyze', '--json', '--workers', '2', '--filter', 'ip or not ip', file]);
    expect(ring.code, ring.stderr).toBe(0);
    expect(ndjson(ring.stdout)).toEqual(ndjson(pure.stdout));
    const table = await runCli(['analyze', '--workers', '2', '--filter', 'ip or not ip', file]);
    expect(table.stdout).toMatch(/packets via the native ring, 0 ring drops, 0 kernel drops/);
  });
});
