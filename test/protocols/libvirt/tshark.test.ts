/**
 * The libvirt decoder against tshark's own libvirt dissector (Debian's libvirt-wireshark)
 * on (1) a real libvirt 9.0 peer-to-peer capture (fixtures/libvirt9-p2p.pcap.gz: one
 * completed migration of mgs-vm1 and one that fails at prepare because mgs-vmfail
 * already exists with another UUID; captured with test/real/harness/libvirt-p2p.sh and
 * cut to port 16509), and (2) traces from migscope's generator.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dissector } from '../../../src/dissect/dissector.js';
import { generateTrace } from '../../../src/generate/index.js';
import { createCaptureWriter, fileSink } from '../../../src/ingest/formats/index.js';
import { openCapture } from '../../../src/ingest/index.js';
import { libvirtAnalyzer } from '../../../src/protocols/libvirt/index.js';
import { qemuAnalyzer } from '../../../src/protocols/qemu/index.js';
import type { LibvirtRpcMessage, ProtocolMessage } from '../../../src/protocols/types.js';
import { epochToPicos, tsharkFields } from '../../real/harness/tshark.js';

const ci = process.env.CI === 'true';
const hasLibvirtDissector = spawnSync('sh', ['-c', 'tshark -G protocols 2>/dev/null | grep -qx "Libvirt.*libvirt"']).status === 0
  || spawnSync('sh', ['-c', 'tshark -G fields 2>/dev/null | grep -q "libvirt.procedure"']).status === 0;
if (!hasLibvirtDissector && !ci) console.warn('skipping libvirt/tshark comparison: tshark with libvirt-wireshark not installed');
const fixture = join(__dirname, 'fixtures/libvirt9-p2p.pcap.gz');
const work = mkdtempSync(join(tmpdir(), 'migscope-libvirt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function decode(pcap: string): Promise<{ msgs: LibvirtRpcMessage[]; anomalies: ProtocolMessage[] }> {
  const out: ProtocolMessage[] = [];
  const d = new Dissector((m) => out.push(m), { analyzers: [libvirtAnalyzer, qemuAnalyzer] });
  const cap = await openCapture(pcap);
  for await (const batch of cap.batches()) for (const p of batch) d.packet(p);
  d.finish();
  return {
    msgs: out.filter((m): m is LibvirtRpcMessage => m.protocol === 'libvirt'),
    anomalies: out.filter((m) => m.protocol === 'anomaly'),
  };
}

/** One row per PDU in frame order: program, procedure, type, serial, status, frame time. */
function tsharkPdus(pcap: string): { key: string; ts: bigint }[] {
  const rows = tsharkFields(pcap, ['frame.time_epoch', 'libvirt.program', 'libvirt.procedure', 'libvirt.type', 'libvirt.serial', 'libvirt.status'], 'libvirt');
  const out: { key: string; ts: bigint }[] = [];
  for (const r of rows) {
    const cols = r.slice(1).map((c) => c.split(','));
    for (let i = 0; i < cols[0]!.length; i++) {
      out.push({ key: cols.map((c) => Number(c[i])).join(' '), ts: epochToPicos(r[0]!) });
    }
  }
  return out;
}

const TYPE_CODE: Record<string, number> = { call: 0, reply: 1, message: 2, stream: 3, 'call-with-fds': 4, 'reply-with-fds': 5, 'stream-hole': 6 };
const STATUS_CODE: Record<string, number> = { ok: 0, error: 1, continue: 2 };
const key = (m: LibvirtRpcMessage) => [m.program, m.procedure, TYPE_CODE[m.kind], m.serial, STATUS_CODE[m.status]].join(' ');

describe.runIf(hasLibvirtDissector || ci)('libvirt decoder vs tshark libvirt dissector', () => {
  it('real libvirt 9.0 p2p capture: every PDU, field by field, completed at the same frame', async () => {
    const { msgs, anomalies } = await decode(fixture);
    expect(anomalies).toEqual([]);
    const t = tsharkPdus(fixture);
    expect(t.length).toBeGreaterThan(40);
    expect(msgs.map(key)).toEqual(t.map((x) => x.key));
    expect(msgs.map((m) => m.tsEnd)).toEqual(t.map((x) => x.ts));

    const prepares = msgs.filter((m) => m.procedureName === 'DOMAIN_MIGRATE_PREPARE3_PARAMS');
    expect(prepares.map((m) => [m.kind, m.status])).toEqual([['call', 'ok'], ['reply', 'ok'], ['call', 'ok'], ['reply', 'error']]);
    expect(prepares[0]!.migration).toMatchObject({ domainName: 'mgs-vm1', domainUuid: '00000000-0000-4000-8000-000000000001' });
    expect(prepares[1]!.migration?.migrateUri).toMatch(/^tcp:(\/\/)?192\.168\.77\.2:\d+$/);
    expect(prepares[1]!.callTs).toBe(prepares[0]!.ts);
    expect(prepares[2]!.migration).toMatchObject({ domainName: 'mgs-vmfail', domainUuid: '00000000-0000-4000-8000-999999999999' });
    expect(prepares[3]!.error?.message).toBe("operation failed: domain 'mgs-vmfail' already exists with uuid 00000000-0000-4000-8000-888888888888");
    const finish = msgs.filter((m) => m.procedureName === 'DOMAIN_MIGRATE_FINISH3_PARAMS' && m.kind === 'reply');
    expect(finish).toHaveLength(1);
    expect(finish[0]!.migration).toMatchObject({ domainName: 'mgs-vm1', domainUuid: '00000000-0000-4000-8000-000000000001' });
  });

  it('generated KVM traces: every PDU matches tshark, migration fields match the generator truth', async () => {
    for (const outcome of ['completed', 'failed-prepare'] as const) {
      const pcap = join(work, `kvm-${outcome}.pcap`);
      const w = createCaptureWriter('pcap', fileSink(pcap));
      const truth = generateTrace({ scenario: 'kvm', seed: 11, runs: 2, payloadScale: 0.005, outcome }, w);
      await w.close();
      const { msgs, anomalies } = await decode(pcap);
      expect(anomalies).toEqual([]);
      const t = tsharkPdus(pcap);
      expect(msgs.map(key)).toEqual(t.map((x) => x.key));
      expect(msgs.map((m) => m.tsEnd)).toEqual(t.map((x) => x.ts));
      const replies = msgs.filter((m) => m.procedure === 303 && m.kind === 'reply');
      expect(replies).toHaveLength(truth.migrations.length);
      truth.migrations.forEach((mig, i) => {
        const call = msgs.filter((m) => m.procedure === 303 && m.kind === 'call')[i]!;
        expect(call.migration).toMatchObject({ domainName: mig.domain, domainUuid: mig.domainUuid });
        if (outcome === 'completed') expect(replies[i]!.migration?.migrateUri).toBe(mig.migrateUri);
        else expect(replies[i]!.status).toBe('error');
      });
    }
  });
});
