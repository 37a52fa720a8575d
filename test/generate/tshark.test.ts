import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import { generateTrace, type GenerateOptions, type GroundTruth, serializeTruth } from '../../src/generate/index.js';
import { epochToPicos, hasTshark, tsharkExpert, tsharkFields } from './tshark-helpers.js';

const run = hasTshark || process.env.CI === 'true';
if (!run) console.log('skipping generator tshark tests: tshark not installed');

const dir = mkdtempSync(join(tmpdir(), 'migscope-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gen(name: string, opts: Partial<GenerateOptions>): { file: string; truth: GroundTruth } {
  const file = join(dir, name);
  const writer = createCaptureWriter('pcap-ns', fileSink(file));
  const truth = generateTrace({ payloadScale: 0.002, ...opts }, writer);
  writer.close();
  writeFileSync(`${file}.truth.json`, serializeTruth(truth));
  return { file, truth };
}

describe.runIf(run)('generated traces under tshark', () => {
  let kvm: { file: string; truth: GroundTruth };
  let os: { file: string; truth: GroundTruth };
  beforeAll(() => {
    kvm = gen('kvm.pcap', { scenario: 'kvm', flavor: 1, load: 50, seed: 7 });
    os = gen('os.pcap', { scenario: 'openstack', flavor: 2, load: 100, seed: 11 });
  });

  it('has no malformed packets, no checksum or TCP-analysis warnings', () => {
    for (const { file } of [kvm, os]) {
      const expert = tsharkExpert(file);
      expect(expert).not.toMatch(/^Errors/m);
      expect(expert).not.toMatch(/^Warnings/m);
      expect(expert).not.toMatch(/malformed|checksum/i);
      expect(tsharkFields(file, 'tcp.analysis.flags || _ws.malformed || _ws.expert.severity >= warning', ['frame.number'])).toEqual([]);
    }
  });

  it('decodes the libvirt p2p call sequence', () => {
    const rows = tsharkFields(kvm.file, 'libvirt.program == 0x20008086', ['libvirt.procedure', 'libvirt.type', 'libvirt.status']);
    const calls = rows.filter((r) => r[1] === '0').map((r) => Number(r[0]));
    expect(calls).toEqual([66, 60, 60, 1, 60, 60, 360, 60, 60, 60, 303, 306, 361, 2]);
    const replies = rows.filter((r) => r[1] === '1');
    expect(replies).toHaveLength(calls.length);
    expect(replies.every((r) => r[2] === '0')).toBe(true);
  });

  it('decodes HTTP and AMQP of the OpenStack front end', () => {
    const http = tsharkFields(os.file, 'http.request || http.response', ['http.request.method', 'http.request.uri', 'http.response.code']);
    expect(http.map((r) => r.filter((x) => x).join(' '))).toEqual([
      'POST /v3/auth/tokens', '201', `GET /v2.1/servers/${os.truth.migrations[0]!.domainUuid}`, '200',
      `POST /v2.1/servers/${os.truth.migrations[0]!.domainUuid}/action`, '202',
    ]);
    const basic = tsharkFields(os.file, 'amqp.method.class == 60 && (amqp.method.method == 40 || amqp.method.method == 60)', ['amqp.method.method', 'amqp.method.arguments.routing_key']);
    const seq = basic.map((r) => `${r[0] === '40' ? 'publish' : 'deliver'} ${r[1]!.replace(/reply_[0-9a-f]{32}/, 'reply_Q')}`);
    expect(seq).toEqual([
      'deliver compute.compute1', 'publish reply_conductor', 'deliver compute.compute1', 'publish compute.compute2',
      'deliver reply_Q', 'publish compute.compute2', 'deliver reply_Q',
    ]);
  });

  it('truth phases are the marker packets tshark sees', () => {
    const t = kvm.truth.migrations[0]!;
    // One tshark pass (no reassembly: a message's first segment carries its header).
    const rows = tsharkFields(kvm.file, 'tcp.flags.syn==1 || tcp.flags.fin==1 || libvirt', ['frame.time_epoch', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.fin', 'tcp.dstport', 'tcp.srcport', 'libvirt.procedure', 'libvirt.type'], ['-o', 'tcp.desegment_tcp_streams:FALSE']);
    const ts = (pred: (r: string[]) => boolean): bigint => epochToPicos(rows.find(pred)![0]!);
    const port = (r: string[], p: string): boolean => r[4] === p || r[5] === p;
    const syn = (p: string) => (r: string[]): boolean => r[1] === '1' && r[2] === '0' && r[4] === p;
    const fin = (p: string) => (r: string[]): boolean => r[3] === '1' && port(r, p);
    const lv = (proc: string, type: string) => (r: string[]): boolean => r[6] === proc && r[7] === type;
    expect(t.phases['remote-connect']!.start).toBe(ts(syn('16509')));
    expect(t.phases['remote-connect']!.end).toBe(ts(lv('1', '1')));
    expect(t.phases.preparation!.start).toBe(ts(lv('303', '0')));
    expect(t.phases.preparation!.end).toBe(ts(lv('303', '1')));
    expect(t.phases.transfer!.start).toBe(ts(syn('49152')));
    expect(t.phases.transfer!.end).toBe(ts(fin('49152')));
    expect(t.phases.finish!.start).toBe(ts(lv('306', '0')));
    expect(t.phases.finish!.end).toBe(ts(lv('306', '1')));
    expect(t.phases.cleanup!.end).toBe(ts(fin('16509')));
    const o = os.truth.migrations[0]!;
    const http = tsharkFields(os.file, 'http.request', ['frame.time_epoch', 'http.request.method'], ['-o', 'tcp.desegment_tcp_streams:FALSE']);
    expect(o.phases.authentication!.start).toBe(epochToPicos(http[0]![0]!));
    expect(o.phases.initialization!.start).toBe(epochToPicos(http.find((r) => r[1] === 'GET')![0]!));
    expect(o.total).toBe(o.phases['post-migration']!.end - o.phases.authentication!.start);
  });

  it('stream bytes, downtime and passes match the wire', () => {
    for (const { file, truth } of [kvm, os]) {
      const t = truth.migrations[0]!;
      const lens = tsharkFields(file, 'tcp.dstport==49152', ['tcp.len']).reduce((a, r) => a + Number(r[0]), 0);
      expect(t.streamBytes).toBe(lens);
      expect(t.precopyBytes + t.stopCopyBytes).toBe(lens);
      const replies = tsharkFields(file, `icmp.type==0 && ip.src==${t.vmIp}`, ['frame.time_epoch']).map((r) => epochToPicos(r[0]!));
      let gap = 0n;
      for (let i = 1; i < replies.length; i++) if (replies[i]! - replies[i - 1]! > gap) gap = replies[i]! - replies[i - 1]!;
      expect(t.downtime).toBe(gap);
      const requests = tsharkFields(file, `icmp.type==8 && ip.dst==${t.vmIp}`, ['frame.number']).length;
      expect(requests - replies.length).toBe(t.lostPings);
      expect(t.iterations).toBe(t.passBytes.length);
      expect(t.iterations).toBeGreaterThanOrEqual(2);
    }
  });

  it('--lose drops exactly the marker packet', () => {
    const { file, truth } = gen('lose.pcap', { scenario: 'kvm', seed: 7, flavor: 1, load: 50, lose: 'prepare-reply' });
    expect(truth.migrations[0]!.lost?.marker).toBe('prepare-reply');
    const lostFlags = tsharkFields(file, 'tcp.analysis.flags', ['tcp.analysis.lost_segment', 'tcp.dstport', 'tcp.srcport']);
    expect(lostFlags.filter((r) => r[0] !== '')).toHaveLength(1);
    expect(lostFlags.every((r) => r[2] === '16509' || r[1] === '16509')).toBe(true);
    expect(tsharkFields(file, 'libvirt.procedure==303 && libvirt.type==1', ['frame.number'], ['-o', 'tcp.desegment_tcp_streams:FALSE'])).toEqual([]);
    expect(truth.packets).toBe(kvm.truth.packets - 1);
  });
});
