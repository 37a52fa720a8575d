import { recordsTo } from '../../src/ingest/batch.js';
/**
 * The generator's pcapng and DPMI-measurement-frame outputs under tshark (issue #2: "a
 * generated pcap of each scenario reads in tshark with zero malformed-packet or checksum
 * expert warnings"; tshark.test.ts covers pcap). pcapng must be the same trace
 * as pcap-ns (both 1 ns: the generator quantises to the format's resolution), frame by
 * frame as tshark dissects it; dpmi-frames must read as plain Ethernet frames of type
 * 0x0810 with nothing malformed, carrying every generated packet with its picosecond time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTrace, type GenerateOptions, type GroundTruth } from '../../src/generate/index.js';
import { DpmiUnpacker } from '../../src/ingest/dpmi/frames.js';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import type { CapturedPacket, WriteFormat } from '../../src/ingest/types.js';
import { hasTshark, tsharkExpert, tsharkFields } from './tshark-helpers.js';

const run = hasTshark || process.env.CI === 'true';
if (!run) console.log('skipping generated pcapng / DPMI frames under tshark: tshark not installed');

const dir = mkdtempSync(join(tmpdir(), 'migscope-gen-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function gen(name: string, format: WriteFormat, opts: Partial<GenerateOptions>): Promise<{ file: string; truth: GroundTruth; frames: number }> {
  const file = join(dir, name);
  const w = createCaptureWriter(format, fileSink(file), format === 'dpmi-frames' ? { mampid: 'mp-gen' } : {});
  const truth = generateTrace({ payloadScale: 0.002, ...opts }, w);
  await w.close();
  return { file, truth, frames: w.stats.frames ?? 0 };
}

function expectNoWarnings(file: string): void {
  const expert = tsharkExpert(file);
  expect(expert).not.toMatch(/^Errors/m);
  expect(expert).not.toMatch(/^Warnings/m);
  expect(expert).not.toMatch(/malformed|checksum/i);
  expect(tsharkFields(file, 'tcp.analysis.flags || _ws.malformed || _ws.expert.severity >= warning', ['frame.number'])).toEqual([]);
}

describe.runIf(run)('generated pcapng and DPMI frames under tshark', () => {
  for (const scenario of ['kvm', 'openstack'] as const) {
    const opts: Partial<GenerateOptions> = { scenario, seed: 13, flavor: 2, load: 50 };

    it(`${scenario} pcapng: no malformed/checksum/TCP-analysis warnings, frame by frame the pcap-ns trace`, async () => {
      const ng = await gen(`${scenario}.pcapng`, 'pcapng', opts);
      const ns = await gen(`${scenario}-ns.pcap`, 'pcap-ns', opts);
      expectNoWarnings(ng.file);
      const cols = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols', 'frame.interface_id'];
      const a = tsharkFields(ng.file, 'frame', cols);
      const b = tsharkFields(ns.file, 'frame', cols);
      expect(a).toHaveLength(ng.truth.packets);
      expect(a.map((r) => r.slice(0, 4))).toEqual(b.map((r) => r.slice(0, 4)));
      expect(new Set(a.map((r) => r[4]))).toEqual(new Set(['0']));
      // The protocols the dissectors found, as a check that pcapng carries the same payloads.
      const protos = new Set(a.flatMap((r) => r[3]!.split(':')));
      for (const p of scenario === 'kvm' ? ['libvirt', 'icmp'] : ['libvirt', 'icmp', 'http', 'amqp']) expect(protos, p).toContain(p);
    });

    it(`${scenario} dpmi-frames: EtherType 0x0810 frames, nothing malformed, every packet inside with its ps time`, async () => {
      const fr = await gen(`${scenario}.frames.pcap`, 'dpmi-frames', opts);
      expectNoWarnings(fr.file);
      const rows = tsharkFields(fr.file, 'frame', ['eth.type', 'eth.dst', 'frame.protocols', 'frame.len', 'frame.cap_len', 'data.data']);
      expect(rows).toHaveLength(fr.frames);
      expect(fr.frames).toBeGreaterThan(10);
      for (const [type, dst, protocols, len, caplen] of rows) {
        expect([type, dst, protocols]).toEqual(['0x0810', '01:00:00:00:00:01', 'eth:ethertype:data']);
        expect(caplen).toBe(len);
        expect(Number(len)).toBeLessThanOrEqual(1514);
      }
      // The frames' bytes as tshark read them, unpacked: the generated packets, the
      // truth's marker times among them to the picosecond.
      const inner: CapturedPacket[] = [];
      const u = new DpmiUnpacker(recordsTo((p) => inner.push(p)));
      for (const r of rows) {
        const eth = Uint8Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x08, 0x10);
        const data = Buffer.from(r[5]!, 'hex');
        const frame = new Uint8Array(eth.length + data.length);
        frame.set(eth);
        frame.set(data, eth.length);
        u.sink({ ts: 0n, data: frame, wireLength: frame.length, linkType: 1, iface: 0 });
      }
      expect(u.stats).toMatchObject({ frames: fr.frames, lostFrames: 0, malformedFrames: 0, duplicateFrames: 0 });
      expect(inner).toHaveLength(fr.truth.packets);
      expect(inner.every((p, i) => i === 0 || p.ts >= inner[i - 1]!.ts)).toBe(true);
      const times = new Set(inner.map((p) => p.ts));
      for (const m of fr.truth.migrations) {
        for (const [phase, span] of Object.entries(m.phases)) {
          expect(times.has(span!.start), `${m.id} ${phase} start`).toBe(true);
          expect(times.has(span!.end), `${m.id} ${phase} end`).toBe(true);
        }
      }
      expect([...times].some((t) => t % 1_000n !== 0n), 'sub-nanosecond times survive').toBe(true);
    });
  }
});
