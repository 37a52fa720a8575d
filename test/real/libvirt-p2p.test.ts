/**
 * Real libvirt peer-to-peer live migrations (virsh migrate --live --p2p --undefinesource
 * --persistent) between two libvirtd "hosts" in network namespaces, captured on the
 * source host's veth. migscope's phase boundaries must equal the boundaries derived
 * independently from tshark's libvirt dissector (libvirt-wireshark), and the migration
 * that fails at prepare must be reported as failed.
 *
 * A message's timestamp is that of the packet carrying its first byte
 * (docs/phase-markers.md). tshark reports a PDU split over several segments in the frame
 * that completes it (libvirt writes prepare3 as a 1448-byte and a 652-byte segment), so
 * the expected boundaries take the first frame of `tcp.segment` for such PDUs.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochToPicos, tsharkFields } from './harness/tshark.js';

const root = resolve(__dirname, '../..');
const harness = join(root, 'test/real/harness/libvirt-p2p.sh');
const ci = process.env.CI === 'true';
const missing = ['libvirtd', 'virsh', 'qemu-system-x86_64', 'tshark', 'tcpdump', 'ip'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
);
const runnable = process.getuid?.() === 0 && missing.length === 0;
if (!runnable && !ci) console.warn(`skipping real libvirt test: need root and ${missing.join(', ')}`);

const execFileAsync = promisify(execFile);
/** Async, so that vitest's worker stays responsive during minutes-long harness steps. */
async function run(cmd: string, args: string[], timeout: number): Promise<string> {
  const { stdout, stderr } = await execFileAsync(cmd, args, { encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  if (stderr.trim()) console.log(stderr.trim());
  return stdout;
}

interface Boundaries {
  domain?: string;
  failed: boolean;
  phases: Record<string, { start: bigint; end: bigint }>;
}

/** Phase boundaries per libvirt connection, derived from tshark's fields only. */
function boundariesFromTshark(pcap: string): Boundaries[] {
  const rows = tsharkFields(pcap, [
    'frame.time_epoch', 'tcp.stream', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.fin',
    'libvirt.procedure', 'libvirt.type', 'libvirt.status', 'frame.number', 'tcp.segment',
  ], 'tcp');
  const tsOfFrame = new Map(rows.map((r) => [Number(r[9]), epochToPicos(r[0]!)]));
  type Pdu = { proc: number; type: number; status: number; ts: bigint };
  type Pkt = { ts: bigint; stream: number; dport: number; syn: boolean; ack: boolean; fin: boolean; pdus: Pdu[] };
  const pkts: Pkt[] = rows.map((r) => {
    const procs = (r[6] ?? '').split(',').filter(Boolean).map(Number);
    const types = (r[7] ?? '').split(',').filter(Boolean).map(Number);
    const status = (r[8] ?? '').split(',').filter(Boolean).map(Number);
    const ts = epochToPicos(r[0]!);
    // Only the frame's first PDU can have begun in earlier segments.
    const segments = (r[10] ?? '').split(',').filter(Boolean).map(Number);
    const startTs = segments.length > 0 ? tsOfFrame.get(Math.min(...segments))! : ts;
    return {
      ts, stream: Number(r[1]), dport: Number(r[2]),
      syn: r[3] === '1' || r[3] === 'True', ack: r[4] === '1' || r[4] === 'True', fin: r[5] === '1' || r[5] === 'True',
      pdus: procs.map((proc, i) => ({ proc, type: types[i]!, status: status[i] ?? 0, ts: i === 0 ? startTs : ts })),
    };
  });
  const firstTs = (pred: (p: Pkt) => boolean): bigint | undefined => pkts.find(pred)?.ts;
  const libvirtStreams = [...new Set(pkts.filter((p) => p.syn && !p.ack && p.dport === 16509).map((p) => p.stream))];
  return libvirtStreams.map((s) => {
    const on = (p: Pkt) => p.stream === s;
    const pdu = (proc: number, type: number): bigint | undefined => {
      for (const p of pkts) {
        const d = on(p) ? p.pdus.find((x) => x.proc === proc && x.type === type) : undefined;
        if (d) return d.ts;
      }
      return undefined;
    };
    const prepareReply = pkts.find((p) => on(p) && p.pdus.some((d) => d.proc === 303 && d.type === 1));
    const failed = prepareReply?.pdus.some((d) => d.proc === 303 && d.status === 1) ?? true;
    const phases: Boundaries['phases'] = {};
    const set = (name: string, start?: bigint, end?: bigint) => {
      if (start !== undefined && end !== undefined) phases[name] = { start, end };
    };
    set('remote-connect', firstTs((p) => on(p) && p.syn && !p.ack), pdu(1, 1));
    set('preparation', pdu(303, 0), pdu(303, 1));
    const finishCall = pdu(306, 0);
    const prepEnd = pdu(303, 1);
    if (!failed && prepEnd !== undefined && finishCall !== undefined) {
      const syn = pkts.find((p) => p.syn && !p.ack && p.dport >= 49152 && p.dport <= 49215 && p.ts > prepEnd && p.ts < finishCall);
      if (syn) set('transfer', syn.ts, firstTs((p) => p.stream === syn.stream && p.fin));
      set('finish', finishCall, pdu(306, 1));
      set('cleanup', pdu(306, 1), firstTs((p) => on(p) && p.fin));
    }
    return { failed, phases };
  });
}

describe.runIf(runnable || ci)('real libvirt p2p migrations in network namespaces', () => {
  let work = '';
  let pcap = '';
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mgs-libvirt-'));
    pcap = join(work, 'capture.pcap');
    try {
      await run('bash', [harness, 'up', work], 120_000);
      await run('bash', [harness, 'run', work, '2'], 240_000);
    } catch (err) {
      spawnSync('bash', [harness, 'down', work], { stdio: 'inherit', timeout: 60_000 });
      throw err;
    }
  }, 400_000);
  afterAll(() => {
    if (!work) return;
    spawnSync('bash', [harness, 'down', work], { stdio: 'inherit', timeout: 60_000 });
    rmSync(work, { recursive: true, force: true });
  });

  it('finds the five KVM phases at exactly the boundaries tshark decodes, and the failure', async () => {
    expect(existsSync(pcap)).toBe(true);
    const expected = boundariesFromTshark(pcap);
    expect(expected).toHaveLength(3);
    expect(expected.map((b) => b.failed)).toEqual([false, false, true]);

    const out = await run('node', [join(root, 'bin/migscope.js'), 'analyze', '--json', pcap], 120_000);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = events.filter((e) => e.type === 'migration-started');
    const ended = events.filter((e) => e.type === 'migration-ended');
    expect(started).toHaveLength(3);
    expect(ended).toHaveLength(3);

    // Migrations in order of their start; compare each phase boundary to the picosecond.
    const byStart = [...ended].sort((a, b) => {
      const sa = BigInt((a.phases as Record<string, { start: string }>)['remote-connect']!.start);
      const sb = BigInt((b.phases as Record<string, { start: string }>)['remote-connect']!.start);
      return sa < sb ? -1 : sa > sb ? 1 : 0;
    });
    byStart.forEach((ev, i) => {
      const want = expected[i]!;
      const phases = ev.phases as Record<string, { start: string; end: string; uncertain?: string }>;
      expect(ev.outcome).toBe(want.failed ? 'failed' : 'completed');
      // libvirt 9.0's destination often closes first: the first FIN ends the phase, and
      // nothing on this lossless capture suggests an earlier FIN was lost.
      for (const [name, p] of Object.entries(phases)) expect(p.uncertain, `${name} of migration ${i + 1}`).toBeUndefined();
      for (const [name, b] of Object.entries(want.phases)) {
        expect(phases[name], `${name} of migration ${i + 1}`).toBeDefined();
        expect(BigInt(phases[name]!.start), `${name} start`).toBe(b.start);
        expect(BigInt(phases[name]!.end), `${name} end`).toBe(b.end);
      }
      if (!want.failed) {
        expect(Object.keys(want.phases).sort()).toEqual(['cleanup', 'finish', 'preparation', 'remote-connect', 'transfer']);
        const rc = want.phases['remote-connect']!;
        const cl = want.phases.cleanup!;
        expect(BigInt(ev.libvirtTotal as string)).toBe(cl.end - rc.start);
      }
    });
    // The domain names come from the domain XML in begin3/prepare3 (migration-started of
    // a known host pair goes out at the SYN, before them; migration-ended has them).
    expect(byStart.map((e) => e.domain)).toEqual(['mgs-vm1', 'mgs-vm2', 'mgs-vmfail']);
    expect(byStart.map((e) => e.domainUuid)).toEqual(['00000000-0000-4000-8000-000000000001',
      '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-999999999999']);
  }, 180_000);

  /*
   * The same capture as a measurement point would record it: every packet cut to 1448
   * bytes (DPMI frames on a 1500-byte network) or to 128 (headers only), with editcap.
   * Every KVM marker is a SYN, a FIN or an RPC header at a message's start, which both
   * keep: each phase boundary must equal the full capture's to the picosecond.
   */
  for (const snaplen of [1448, 128]) {
    it(`snaplen ${snaplen}: the same phase boundaries as the full capture`, async () => {
      const phasesOf = async (file: string) => {
        const out = await run('node', [join(root, 'bin/migscope.js'), 'analyze', '--json', file], 120_000);
        return out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((e) => e.type === 'migration-ended')
          .map((e) => ({ outcome: e.outcome, domainUuid: e.domainUuid, phases: e.phases }));
      };
      const cut = join(work, `capture-${snaplen}.pcap`);
      await run('editcap', ['-s', String(snaplen), pcap, cut], 60_000);
      const full = await phasesOf(pcap);
      const got = await phasesOf(cut);
      expect(got.map((m) => m.phases)).toEqual(full.map((m) => m.phases));
      expect(got.map((m) => m.outcome)).toEqual(full.map((m) => m.outcome));
    }, 120_000);
  }
});
