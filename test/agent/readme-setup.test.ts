/**
 * The README's two-agent setup ("Several measurement points"), its three commands run as
 * written (`migscope` on the PATH; only the JetStream store moved to a temporary
 * directory) in a network namespace whose `eth1` and `eth2` both hang off a hub: a
 * generated migration replayed into the hub reaches both agents, the service shows it
 * complete with the clock offset of dst to src while the agents still run, and the
 * agents stop cleanly on SIGINT.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhaseEvent } from '../../src/phases/events.js';
import { analyzeSources } from '../../src/pipeline/analyze.js';
import { generateFile, tempDir } from '../phases/generated.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { isCI, requirement } from '../live/helpers.js';
import { sh } from '../live/netns.js';
import { natsServerMissing } from './nats-server.js';

const missing = requirement() ?? natsServerMissing();
if (missing && !isCI) console.log(`skipping the README setup test: ${missing}`);
const ROOT = join(__dirname, '../..');

/** The commands of the README's "Several measurement points" code block. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Several measurement points'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split('\n').filter((l) => l.trim() !== '');
}

/** rx: eth1, eth2 (and lo) for the agents; tx: a hub (bridge that never learns) joining them to s0. */
function createHub(tag: string): { rx: string; tx: string; remove: () => void } {
  const rx = `mgs-${tag}-rx`;
  const tx = `mgs-${tag}-tx`;
  const remove = (): void => {
    spawnSync('ip', ['netns', 'del', rx], { timeout: 10_000 });
    spawnSync('ip', ['netns', 'del', tx], { timeout: 10_000 });
  };
  remove();
  try {
    sh('ip', ['netns', 'add', rx]);
    sh('ip', ['netns', 'add', tx]);
    sh('ip', ['-n', rx, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', tx, 'link', 'add', 'br0', 'type', 'bridge', 'ageing_time', '0']);
    sh('ip', ['-n', tx, 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 's1']);
    sh('ip', ['link', 'add', 'mgsh1', 'netns', tx, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', rx]);
    sh('ip', ['link', 'add', 'mgsh2', 'netns', tx, 'type', 'veth', 'peer', 'name', 'eth2', 'netns', rx]);
    for (const p of ['mgsh1', 'mgsh2', 's1']) sh('ip', ['-n', tx, 'link', 'set', p, 'master', 'br0']);
    for (const [ns, ifc] of [[tx, 's0'], [tx, 's1'], [tx, 'br0'], [tx, 'mgsh1'], [tx, 'mgsh2'], [rx, 'eth1'], [rx, 'eth2']] as const) {
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${ifc}.disable_ipv6=1`]);
      sh('ip', ['-n', ns, 'link', 'set', ifc, 'mtu', '9000']);
      if (ifc !== 'br0') sh('ip', ['netns', 'exec', ns, 'ethtool', '-K', ifc, 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off']);
      sh('ip', ['-n', ns, 'link', 'set', ifc, 'up']);
    }
  } catch (e) {
    remove();
    throw e;
  }
  return { rx, tx, remove };
}

/** The direct children of a process (the README line's jobs, started by its shell). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const t of spawnSync('ls', [`/proc/${pid}/task`], { encoding: 'utf8' }).stdout.split('\n').filter((x) => x !== '')) {
    const c = spawnSync('cat', [`/proc/${pid}/task/${t}/children`], { encoding: 'utf8' }).stdout.trim();
    if (c !== '') out.push(...c.split(' ').map(Number));
  }
  return out;
}

async function until<T>(what: string, probe: () => T | undefined, ms: number, why: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${why()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(missing !== undefined && !isCI)('README: two agents in three commands', () => {
  const { dir, cleanup } = tempDir();
  let hub: ReturnType<typeof createHub> | undefined;
  const shells: ChildProcess[] = [];
  beforeAll(() => {
    if (missing) throw new Error(missing);
    requireCompiledWorker();
    hub = createHub(`r${process.pid % 10000}`);
  }, 120_000);
  /** Everything the README lines started (also by a failed attempt before a retry). */
  const stopAll = (): void => {
    for (const s of shells.splice(0)) {
      for (const c of children(s.pid!)) spawnSync('kill', ['-KILL', String(c)]);
      if (s.exitCode === null) s.kill('SIGKILL');
    }
  };
  afterAll(() => {
    stopAll();
    hub?.remove();
    cleanup();
  });

  it('nats-server, two agents on eth1/eth2, serve --subscribe: the migration and the offset are served while the agents run', async () => {
    stopAll();
    const cmds = readmeCommands();
    expect(cmds).toHaveLength(3);
    const bin = join(dir, 'bin');
    sh('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'migscope'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/migscope.js')}" "$@"\n`);
    chmodSync(join(bin, 'migscope'), 0o755);
    const store = join(dir, 'js');
    let log = '';
    const run = (line: string): ChildProcess => {
      // The shell waits for the line's jobs and fails if one of them does.
      const script = `${line.replaceAll('/tmp/migscope-js', store)}\nfor j in $(jobs -p); do wait $j || exit 1; done\n`;
      const p = spawn('ip', ['netns', 'exec', hub!.rx, 'bash', '-c', script], {
        stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      });
      p.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
      p.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
      shells.push(p);
      return p;
    };
    const curl = (path: string): string => spawnSync('ip', ['netns', 'exec', hub!.rx, 'curl', '-sf', `http://127.0.0.1:9470${path}`], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
    const why = (): string => `\n${log}`;

    run(cmds[0]!);
    await until('nats-server', () => (log.includes('Server is ready') ? true : undefined), 20_000, why);
    const agents = run(cmds[1]!);
    run(cmds[2]!);
    await until('serve', () => (curl('/healthz') === 'ok\n' ? true : undefined), 30_000, why);
    await until('two capture sockets', () => {
      const r = spawnSync('ip', ['netns', 'exec', hub!.rx, 'cat', '/proc/net/packet'], { encoding: 'utf8' });
      return r.stdout.split('\n').filter((l) => l.trim() !== '').length >= 3 ? true : undefined;
    }, 30_000, why);
    await new Promise((r) => setTimeout(r, 1000));

    const { file, truth } = generateFile(dir, 'm.pcap', { scenario: 'openstack', payloadScale: 0.002, seed: 7 });
    sh('ip', ['netns', 'exec', hub!.tx, 'tcpreplay', '-q', '-i', 's0', '--topspeed', file], 60_000);

    interface Served { migrations: { state: string; outcome?: string; phases: { phase: string; end?: string }[] }[] }
    const served = await until('the completed migration on /api/migrations', () => {
      const body = curl('/api/migrations');
      const m = body ? (JSON.parse(body) as Served).migrations.find((x) => x.state === 'ended') : undefined;
      return m;
    }, 30_000, why);
    expect(served.outcome).toBe('completed');
    // The phases of analyze of the replayed file (the replay compresses time: names, not durations).
    const events: PhaseEvent[] = [];
    await analyzeSources([file], { onEvent: (e) => events.push(e) });
    expect(served.phases.map((p) => p.phase)).toEqual(events.filter((e) => e.type === 'phase-started').map((e) => (e as { phase: string }).phase));
    expect(truth.migrations).toHaveLength(1);
    const metrics = curl('/metrics');
    const offset = /^migscope_clock_offset_seconds\{mp="dst",reference="src"\} (\S+)$/m.exec(metrics);
    const bound = /^migscope_clock_offset_bound_seconds\{mp="dst",reference="src"\} (\S+)$/m.exec(metrics);
    expect(offset, metrics).not.toBeNull();
    // One kernel clock behind both interfaces: the offset is within its bound of 0 (and tiny).
    expect(Math.abs(Number(offset![1]))).toBeLessThanOrEqual(Number(bound![1]) + 1e-6);
    expect(Math.abs(Number(offset![1]))).toBeLessThan(100e-6);
    const mps = JSON.parse(curl('/api/measurement-points')) as { measurementPoints: { mp: string; status: string }[] };
    expect(mps.measurementPoints.map((m) => `${m.mp}:${m.status}`).sort()).toEqual(['dst:live']);

    // SIGINT to the two agents: both end (their end records reach serve) and exit 0.
    const pids = children(agents.pid!);
    expect(pids).toHaveLength(2);
    for (const pid of pids) spawnSync('kill', ['-INT', String(pid)]);
    const code = await new Promise<number | null>((resolve) => agents.on('exit', resolve));
    expect(code, why()).toBe(0);
    expect(log).toMatch(/agent src \(iface:eth1\): \d+ packets \(0 ring drops, 0 kernel drops\)/);
    expect(log).toMatch(/agent dst \(iface:eth2\): \d+ packets \(0 ring drops, 0 kernel drops\)/);
    await until('both MPs ended on /api/measurement-points', () => {
      const m = JSON.parse(curl('/api/measurement-points') || '{"measurementPoints":[]}') as { measurementPoints: { status: string }[] };
      return m.measurementPoints.filter((x) => x.status === 'ended').length === 2 ? true : undefined;
    }, 20_000, why);
  }, 240_000);
});
