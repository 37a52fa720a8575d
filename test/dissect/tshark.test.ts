import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PS_PER_NS, PS_PER_S, type Picos } from '../../src/core/time.js';
import { Dissector } from '../../src/dissect/dissector.js';
import { createCaptureWriter } from '../../src/ingest/formats/writers.js';
import { fileSink } from '../../src/ingest/formats/sink.js';
import type { CapturedPacket } from '../../src/ingest/types.js';
import type { ProtocolMessage, TcpSegmentMarker } from '../../src/protocols/types.js';
import { Conversation, splitRanges } from './helpers/conversation.js';
import { RecordingAnalyzer, collect, patternBytes } from './helpers/recorder.js';

function hasTshark(): boolean {
  try { execFileSync('tshark', ['-v'], { stdio: 'ignore' }); return true; } catch { return false; }
}
const available = hasTshark();
if (!available && process.env.CI === 'true') throw new Error('tshark is required under CI (scripts/setup.sh installs it)');
if (!available) console.log('skipping tshark cross-check: tshark not installed');

const T0 = 1_700_000_000n * PS_PER_S;
const MS = 1_000_000_000n;

/** A trace of 6 conversations: varied sizes, one out-of-order, one mid-stream, both-way data, FINs. */
function buildTrace(): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  for (let k = 0; k < 6; k++) {
    const conv = new Conversation({ cIsn: 1000 * k + 0xfffff000 * (k % 2), cport: 41000 + k, client: `10.0.1.${k + 1}`, sport: k === 5 ? 49152 : 16509 });
    let t = T0 + BigInt(k) * 7n * MS + 123_456n * PS_PER_NS;
    const next = (): bigint => (t += 1_000_003n * PS_PER_NS);
    const c2s = patternBytes(2000 + 3000 * k, k + 1);
    const s2c = patternBytes(500 + 100 * k, k + 50);
    if (k !== 3) for (const p of conv.handshake(next())) { out.push({ ...p, ts: next() }); }
    const segs = splitRanges(c2s.length, 1400, k + 3);
    if (k === 2) [segs[1], segs[2]] = [segs[2]!, segs[1]!];
    for (const [a, b] of segs) out.push(conv.data(true, a, c2s.subarray(a, b), next()));
    out.push(conv.data(false, 0, s2c, next(), c2s.length));
    out.push(conv.fin(true, c2s.length, next(), s2c.length));
    out.push(conv.fin(false, s2c.length, next(), c2s.length + 1));
    out.push(conv.ack(true, c2s.length + 1, s2c.length + 1, next()));
  }
  return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

/** "1700000000.007123456" → picoseconds. */
function epochToPs(s: string): Picos {
  const [sec, frac = ''] = s.split('.');
  return BigInt(sec!) * PS_PER_S + BigInt(frac.padEnd(12, '0').slice(0, 12));
}

describe.skipIf(!available)('cross-check with tshark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migscope-decode-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'trace.pcap');
  const packets = buildTrace();
  const w = createCaptureWriter('pcap-ns', fileSink(file));
  for (const p of packets) w.write(p.ts, p.data);
  w.close();

  const libvirt = new RecordingAnalyzer('libvirt', [16509]);
  const qemu = new RecordingAnalyzer('qemu', [49152]);
  const { emit, msgs } = collect();
  const d = new Dissector(emit, { analyzers: [libvirt, qemu] });
  for (const p of packets) d.packet(p);
  const flows = [...d.flows];
  d.finish();

  it('flow count and per-direction frames/bytes agree with -z conv,tcp', () => {
    const lens = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=,',
      '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'frame.len'], { encoding: 'utf8' });
    const frameBytes = new Map<string, number>();
    for (const line of lens.trim().split('\n')) {
      const [src, sport, dst, dport, len] = line.split(',');
      const key = `${src}:${sport}>${dst}:${dport}`;
      frameBytes.set(key, (frameBytes.get(key) ?? 0) + Number(len));
    }
    const conv = execFileSync('tshark', ['-r', file, '-q', '-z', 'conv,tcp'], { encoding: 'utf8' });
    // "10.0.1.6:41005 <-> 10.0.0.2:49152   3 1162 bytes   30 18 kB   33 19 kB ..."
    // tshark 4.0 rounds large byte counts to kB, so bytes are compared exactly from
    // the per-frame lengths tshark reports (frame.len), frames from the conv table.
    const rows = conv.split('\n').filter((l) => l.includes('<->')).map((l) => {
      const m = /^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+[\d,]+ (?:bytes|kB|MB)\s+(\d+)\s+[\d,]+ (?:bytes|kB|MB)/.exec(l.trim());
      if (!m) throw new Error(`unparsed conv line: ${l}`);
      const a = `${m[1]}:${m[2]}`, b = `${m[3]}:${m[4]}`;
      // tshark's first pair is B→A ("<-"), the second A→B ("->").
      return { a, b, baFrames: Number(m[5]), baBytes: frameBytes.get(`${b}>${a}`) ?? 0, abFrames: Number(m[6]), abBytes: frameBytes.get(`${a}>${b}`) ?? 0 };
    });
    expect(rows).toHaveLength(6);
    expect(flows).toHaveLength(rows.length);
    for (const r of rows) {
      const f = flows.find((x) => [`${x.client.ip}:${x.client.port}`, `${x.server.ip}:${x.server.port}`].sort().join() === [r.a, r.b].sort().join());
      expect(f, r.a).toBeDefined();
      const aIsClient = `${f!.client.ip}:${f!.client.port}` === r.a;
      const mine = aIsClient
        ? { ab: [f!.c2sPackets, f!.c2sBytes], ba: [f!.s2cPackets, f!.s2cBytes] }
        : { ab: [f!.s2cPackets, f!.s2cBytes], ba: [f!.c2sPackets, f!.c2sBytes] };
      expect(mine).toEqual({ ab: [r.abFrames, r.abBytes], ba: [r.baFrames, r.baBytes] });
    }
  });

  it('per-flow payload bytes and SYN/FIN timestamps agree with -T fields', () => {
    const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=,',
      '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'tcp.len', '-e', 'tcp.flags.syn',
      '-e', 'tcp.flags.ack', '-e', 'tcp.flags.fin', '-e', 'frame.time_epoch'], { encoding: 'utf8' });
    const payload = new Map<string, number>();
    const syn = new Map<string, Picos>();
    const fin = new Map<string, Picos>();
    for (const line of out.trim().split('\n')) {
      const [src, sport, dst, dport, len, s, a, f, t] = line.split(',');
      const key = `${src}:${sport}>${dst}:${dport}`;
      payload.set(key, (payload.get(key) ?? 0) + Number(len));
      const ts = epochToPs(t!);
      if ((s === '1' || s === 'True') && (a === '0' || a === 'False') && !syn.has(key)) syn.set(key, ts);
      if ((f === '1' || f === 'True') && !fin.has(key)) fin.set(key, ts);
    }
    const recorded = [...libvirt.flows, ...qemu.flows];
    expect(recorded).toHaveLength(6);
    for (const r of recorded) {
      const c = `${r.flow.client.ip}:${r.flow.client.port}`;
      const s = `${r.flow.server.ip}:${r.flow.server.port}`;
      expect(r.bytes('c2s').length, c).toBe(payload.get(`${c}>${s}`));
      expect(r.bytes('s2c').length, s).toBe(payload.get(`${s}>${c}`));
    }
    const markers = msgs.filter((m: ProtocolMessage): m is TcpSegmentMarker => m.protocol === 'tcp');
    const flowById = new Map(flows.map((f) => [f.id, f]));
    const mySyn = new Map<string, Picos>();
    const myFin = new Map<string, Picos>();
    for (const m of markers) {
      const key = `${m.src.ip}:${m.src.port}>${m.dst.ip}:${m.dst.port}`;
      if (m.kind === 'syn') mySyn.set(key, m.ts);
      if (m.kind === 'fin') myFin.set(key, m.ts);
      expect(flowById.has(m.flowId)).toBe(true);
    }
    expect(mySyn).toEqual(syn);
    expect(myFin).toEqual(fin);
    expect(syn.size).toBe(5); // one conversation starts mid-stream
    expect(fin.size).toBe(12);
  });
});
