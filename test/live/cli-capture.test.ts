/**
 * The live CLI as a person meets it: `migscope interfaces`, one-line errors for a
 * missing interface or missing rights (naming CAP_NET_RAW), a capture that works with
 * CAP_NET_RAW alone, and Ctrl-C on `analyze iface:…` flushing and printing final stats.
 * Everything runs inside two namespaces this file creates, joined by a veth.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { isCI, requirement } from './helpers.js';
import { createVethPair, replay, type VethPair } from './netns.js';
import { writeGeneratedTrace } from './trace.js';

const missing = requirement();
if (missing && !isCI) console.log(`skipping live CLI tests: ${missing}`);

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin/migscope.js');
/** setpriv: the CLI as `nobody`, optionally keeping CAP_NET_RAW (ambient, so node inherits it). */
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const NOBODY_NET_RAW = [...NOBODY, '--inh-caps', '+net_raw', '--ambient-caps', '+net_raw'];

function inNs(ns: string, argv: string[], as: string[] = []): SpawnSyncReturns<string> {
  return spawnSync('ip', ['netns', 'exec', ns, ...as, 'node', cli, ...argv], { encoding: 'utf8', timeout: 30_000 });
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** Until a packet socket exists in `ns` (/proc/net/packet is per namespace), and a little more: the capture is open. */
async function waitForPacketSocket(ns: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/packet'], { encoding: 'utf8', timeout: 5000 });
    if (lines(r.stdout ?? '').length > 1) {
      // The socket is listed once bound; libpcap then allocates its 32 MiB packet ring,
      // and frames that arrive before that are not in the ring (slow on a loaded host).
      await new Promise((r2) => setTimeout(r2, 500));
      return;
    }
    await new Promise((r2) => setTimeout(r2, 50));
  }
  throw new Error(`no packet socket in ${ns} after ${ms} ms`);
}

interface Finished { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `analyze iface:…` in the receiving namespace; replay the trace, then SIGINT it. */
async function analyzeUntilSigint(pair: VethPair, file: string, as: string[], extra: string[] = []): Promise<Finished> {
  const child = spawn('ip', ['netns', 'exec', pair.rxNs, ...as, 'node', cli, 'analyze', ...extra, `iface:${pair.rxIf}`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<Finished>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  const guard = setTimeout(() => child.kill('SIGKILL'), 40_000); // never hang the suite
  try {
    await waitForPacketSocket(pair.rxNs, 15_000);
    replay(pair, file);
    await new Promise((r) => setTimeout(r, 1000)); // libpcap's block timeout, workers draining
    child.kill('SIGINT'); // `ip netns exec` and setpriv exec: the pid is node's
    const done = await exited;
    return { ...done, stdout, stderr };
  } finally {
    clearTimeout(guard);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** The summary's source line: "N packets via AF_PACKET rings (zero copy), R ring drops, K kernel drops" (libpcap: "via the native ring"). */
function ringLine(stdout: string): { packets: number; ringDrops: number; kernelDrops: number } | undefined {
  const m = /(\d+) packets via AF_PACKET rings \(zero copy\), (\d+) ring drops, (\d+) kernel drops/.exec(stdout);
  return m ? { packets: Number(m[1]), ringDrops: Number(m[2]), kernelDrops: Number(m[3]) } : undefined;
}

describe.skipIf(missing !== undefined && !isCI)('live CLI on a veth between two namespaces', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migscope-cli-live-'));
  const file = path.join(dir, 'openstack.pcap');
  let pair: VethPair | undefined;
  let packets = 0;
  /** `nobody` must be able to read the checkout (a CI clone under a 0700 folder is not). */
  let nobodyCanRun = false;
  beforeAll(() => {
    if (missing) throw new Error(missing);
    requireCompiledWorker();
    pair = createVethPair(`c${process.pid % 10000}`);
    packets = writeGeneratedTrace(file, 'pcap').packets;
    nobodyCanRun = spawnSync(NOBODY[0]!, [...NOBODY.slice(1), 'test', '-r', path.join(root, 'dist/src/cli/main.js')]).status === 0;
    if (!nobodyCanRun) console.log('unprivileged CLI runs skipped: user nobody cannot read the checkout');
  }, 120_000);
  afterAll(() => {
    pair?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('interfaces lists the namespace\'s devices (and needs no privilege)', () => {
    const r = inNs(pair!.rxNs, ['interfaces', '--json']);
    expect(r.status).toBe(0);
    const names = lines(r.stdout).map((l) => (JSON.parse(l) as { name: string }).name);
    expect(names).toContain(pair!.rxIf);
    expect(names).toContain('lo');
    expect(names).not.toContain(pair!.txIf); // the other end lives in the other namespace
    const table = inNs(pair!.rxNs, ['interfaces']);
    expect(table.stdout).toMatch(new RegExp(`^${pair!.rxIf}\\b`, 'm'));
    if (nobodyCanRun) expect(inNs(pair!.rxNs, ['interfaces'], NOBODY).stdout).toBe(table.stdout);
  });

  it('a missing interface: one line naming the available ones, exit 1', () => {
    const r = inNs(pair!.rxNs, ['analyze', 'iface:mgs-nope0']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('interface mgs-nope0 not found');
    expect(r.stderr).toContain(`available: ${pair!.rxIf}`);
  });

  it('no rights: one line naming CAP_NET_RAW, exit 1; a missing name is still "not found"', () => {
    if (!nobodyCanRun) return;
    const r = inNs(pair!.rxNs, ['analyze', `iface:${pair!.rxIf}`], NOBODY);
    expect(r.status).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^migscope analyze: no permission to capture on \S+: needs CAP_NET_RAW/);
    const dpmi = inNs(pair!.rxNs, ['analyze', `dpmi-iface:${pair!.rxIf}`], NOBODY);
    expect(dpmi.status).toBe(1);
    expect(lines(dpmi.stderr)).toHaveLength(1);
    expect(dpmi.stderr).toContain('CAP_NET_RAW');
    const nope = inNs(pair!.rxNs, ['analyze', 'iface:mgs-nope0'], NOBODY);
    expect(nope.status).toBe(1);
    expect(lines(nope.stderr)).toEqual([expect.stringContaining('interface mgs-nope0 not found (available:')]);
  });

  it('SIGINT during analyze iface:… flushes: migration table and final stats, exit 0', async () => {
    const r = await analyzeUntilSigint(pair!, file, []);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^m1 {2}openstack/m);
    expect(r.stdout).toContain('outcome: completed');
    expect(ringLine(r.stdout)).toEqual({ packets, ringDrops: 0, kernelDrops: 0 });
  });

  it('SIGINT during analyze --json iface:…: the event stream ends with one summary record', async () => {
    const r = await analyzeUntilSigint(pair!, file, [], ['--json']);
    expect(r.code).toBe(0);
    const events = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e.type === 'migration-ended')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'summary')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'summary', migrations: 1, packets, ringDrops: 0, kernelDrops: 0, lostFrames: 0 });
  });

  it('CAP_NET_RAW is enough: nobody with that one capability captures the replay', async () => {
    if (!nobodyCanRun) return;
    const r = await analyzeUntilSigint(pair!, file, NOBODY_NET_RAW);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(ringLine(r.stdout)).toEqual({ packets, ringDrops: 0, kernelDrops: 0 });
  });
});
