import { afterAll, describe, expect, it } from 'vitest';
import { writeTrace } from '../../src/generate/write-trace.js';
import type { GenerateOptions } from '../../src/generate/index.js';
import type { WriteFormat } from '../../src/ingest/types.js';
import type { PhaseEvent } from '../../src/phases/events.js';
import { analyzeSources } from '../../src/pipeline/analyze.js';
import { compareWithTruth, tempDir, type Analysed } from './generated.js';
import { join } from 'node:path';

/**
 * Captures that keep only the first bytes of each packet. Measurement frames on a
 * 1500-byte network cut every record to 1448 bytes (libvirt 9.0's prepare3 call is
 * then 1448 + a cut tail): the length prefix still frames every libvirt message, so
 * every phase must equal the generator's truth exactly, stream figures included.
 */
const { dir, cleanup } = tempDir();
afterAll(cleanup);

async function cutTrace(name: string, opts: Partial<GenerateOptions>, format: WriteFormat, snaplen?: number): Promise<Analysed> {
  const file = join(dir, name);
  const truth = writeTrace(file, opts, format, snaplen !== undefined ? { snaplen } : {});
  const events: PhaseEvent[] = [];
  const summary = await analyzeSources([file], { onEvent: (e) => events.push(e) });
  return { truth, events, summary, file };
}

describe('cut captures: phases exact where the marker header was captured', () => {
  for (const scenario of ['kvm', 'openstack'] as const) {
    it(`${scenario}: DPMI measurement frames at MTU 1500 (records cut to 1448 bytes) match the truth exactly`, async () => {
      const r = await cutTrace(`${scenario}.dpmif`, { scenario, payloadScale: 0.002, seed: 21, runs: 2 }, 'dpmi-frames');
      expect(r.summary.dissector!.tcp.cutBytes, 'bytes were cut').toBeGreaterThan(0);
      expect(r.summary.dissector!.anomalies['tcp-hole'] ?? 0, 'cut bytes are not holes').toBe(0);
      compareWithTruth(r);
    });
    it(`${scenario}: pcap with snaplen 1448 matches the truth exactly`, async () => {
      const r = await cutTrace(`${scenario}-1448.pcap`, { scenario, payloadScale: 0.002, seed: 22 }, 'pcap', 1448);
      expect(r.summary.dissector!.tcp.cutBytes).toBeGreaterThan(0);
      compareWithTruth(r);
    });
  }

  it('kvm: header-only capture (snaplen 128): every phase exact, stream bytes from sequence numbers, passes unknown', async () => {
    const r = await cutTrace('kvm-128.pcap', { scenario: 'kvm', payloadScale: 0.002, seed: 23, runs: 2 }, 'pcap', 128);
    compareWithTruth(r, { exactPhases: true, stream: false });
    for (const [t, m] of r.truth.migrations.map((t, i) => [t, r.summary.migrations[i]!] as const)) {
      const s = m.ended.stream!;
      expect(s.bytes, `${t.id} stream bytes`).toBe(t.streamBytes);
      expect(s.payloadCutBytes, `${t.id} cut`).toBeGreaterThan(t.streamBytes / 2);
      expect(s.iterations, `${t.id} passes unknown`).toBeUndefined();
    }
    expect(r.events.filter((e) => e.type === 'switchover'), 'no switch-over guessed').toEqual([]);
    expect(r.summary.dissector!.anomalies['tcp-hole'] ?? 0).toBe(0);
  });
});
