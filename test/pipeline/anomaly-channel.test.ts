import diagnostics_channel from 'node:diagnostics_channel';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/core/anomaly.js';
import { PcapWriter } from '../../src/ingest/formats/pcap-writer.js';
import { fileSink } from '../../src/ingest/formats/sink.js';
import { analyzeSources } from '../../src/pipeline/analyze.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { ACK, ether, ethTcp, ipv4, PSH, SYN, tcp } from '../helpers/packets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'migscope-anomaly-channel-'));
const trace = path.join(dir, 'anomalies.pcap');

/** One anomaly of each stage: packet parser, dissector, two stream decoders. */
const EXPECTED = [
  { code: 'LIBVIRT_BAD_LENGTH', fields: { length: 12 } },
  { code: 'PACKET_TRUNCATED_IPV4' },
  { code: 'IP_FRAGMENT' },
  { code: 'QEMU_BAD_MAGIC', fields: { magic: 0x58585858 } },
];

function writeTrace(): void {
  const w = new PcapWriter(fileSink(trace), false);
  const t0 = 1_764_633_600n * 10n ** 12n;
  let i = 0;
  const at = (): bigint => t0 + BigInt(i++) * 1_000_000n;
  const [c, s] = ['10.0.0.1', '10.0.0.2'];
  // libvirt connection whose first message claims 12 bytes (below the 28-byte header).
  const badHeader = Uint8Array.from([0, 0, 0, 12, 0x20, 0, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  w.write(at(), ethTcp(c, 40000, s, 16509, 1000, 0, SYN));
  w.write(at(), ethTcp(s, 16509, c, 40000, 5000, 1001, SYN | ACK));
  w.write(at(), ethTcp(c, 40000, s, 16509, 1001, 5001, PSH | ACK, badHeader));
  // An IPv4 header cut after 10 bytes, and a fragment (MF set).
  w.write(at(), ether(0x0800, ipv4(c, s, 6, tcp(1, 2, 0, 0, ACK)).subarray(0, 10)));
  w.write(at(), ether(0x0800, ipv4(c, s, 17, new Uint8Array(16), { flagsFrag: 0x2000 })));
  // A connection on a migration port that does not start with 'QEVM'.
  w.write(at(), ethTcp(c, 40001, s, 49152, 7000, 0, SYN));
  w.write(at(), ethTcp(s, 49152, c, 40001, 9000, 7001, SYN | ACK));
  w.write(at(), ethTcp(c, 40001, s, 49152, 7001, 9001, PSH | ACK, new TextEncoder().encode('XXXXXXXX')));
  w.close();
}

/** analyzeSources with a subscriber on migscope:anomaly: what was published and what reached onMessage. */
async function observe(workers: number | undefined, file = trace, filter?: string): Promise<{ published: Anomaly[]; delivered: Anomaly[] }> {
  const published: Anomaly[] = [];
  const delivered: Anomaly[] = [];
  const onPublish = (msg: unknown): void => { published.push(msg as Anomaly); };
  diagnostics_channel.subscribe('migscope:anomaly', onPublish);
  try {
    await analyzeSources([file], {
      onEvent: () => undefined,
      onMessage: (m: ProtocolMessage) => { if (m.protocol === 'anomaly') delivered.push(m); },
      ...(workers !== undefined ? { workers } : {}),
      ...(filter !== undefined ? { filter } : {}),
    });
  } finally {
    diagnostics_channel.unsubscribe('migscope:anomaly', onPublish);
  }
  return { published, delivered };
}

describe('migscope:anomaly: one channel, every anomaly, whatever the path', () => {
  beforeAll(writeTrace);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const paths: [string, number | undefined][] = [['pure-TS reader in this thread', undefined], ['file read by a decode worker', 1]];
  // --filter sends a file through libpcap, the capture thread and a ring, as a live source.
  for (const [name, workers, filter] of [...paths, ['libpcap capture ring + decode worker', 1, 'ip or not ip'] as const]) {
    it(`${name}: each anomaly published once, decoder anomalies included`, async () => {
      if (workers !== undefined) requireCompiledWorker();
      const { published, delivered } = await observe(workers, trace, filter);
      // Exactly the messages the pipeline handed on, once each, in the same order.
      expect(published).toEqual(delivered);
      expect(published.map((a) => a.code).sort()).toEqual(EXPECTED.map((e) => e.code).sort());
      for (const e of EXPECTED) {
        const a = published.find((p) => p.code === e.code)!;
        expect(a.count).toBe(1);
        expect(a.fields).toEqual(e.fields);
      }
    });
  }

  for (const [name, workers] of paths) {
    it(`${name}: a file cut inside a record reports what the reader could not read`, async () => {
      if (workers !== undefined) requireCompiledWorker();
      const cut = path.join(dir, `cut-${workers ?? 0}.pcap`);
      copyFileSync(trace, cut);
      appendFileSync(cut, new Uint8Array(10)); // 10 bytes of a 16-byte record header
      const { published, delivered } = await observe(workers, cut);
      expect(published).toEqual(delivered);
      const byCode = new Map(published.map((a) => [a.code, a]));
      expect(byCode.get('CAPTURE_MALFORMED_RECORDS')).toMatchObject({ kind: 'malformed-record', count: 1, fields: { skippedBytes: 10 } });
      expect(byCode.get('CAPTURE_TRUNCATED_FILE')).toMatchObject({ kind: 'truncated-file', count: 1 });
      expect(published).toHaveLength(EXPECTED.length + 2);
    });
  }
});
