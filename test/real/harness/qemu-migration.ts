/**
 * Real QEMU live migration on loopback (recipe: /work/shared/real-peers.md): a
 * boot-sector guest that keeps dirtying 4 MiB, two TCG QEMUs (source and -incoming
 * destination), QMP to drive the source, tcpdump on lo. Every wait is bounded and the
 * processes are killed in `finally`.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { copyFileSync, statSync, truncateSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient } from './qmp.js';

const execFileAsync = promisify(execFile);

/** The `ram` object of query-migrate (QEMU 7.2), the ground truth. */
export interface QemuRamStats {
  transferred: number;
  'precopy-bytes': number;
  'downtime-bytes': number;
  'dirty-sync-count': number;
  normal: number;
  duplicate: number;
  'page-size': number;
  'multifd-bytes': number;
}
export interface QueryMigrate {
  status: string;
  /** With the xbzrle capability. */
  'xbzrle-cache'?: { pages: number; bytes: number; 'cache-miss': number; overflow: number };
  /** With the compress capability (QEMU 7.2, compress threads). */
  compression?: { pages: number; busy: number; 'compressed-size': number; 'compression-rate': number };
  'total-time'?: number;
  downtime?: number;
  ram?: QemuRamStats;
}

export interface MigrationRun {
  pcap: string;
  port: number;
  truth: QueryMigrate;
  /** QEMU's STOP event on the source (the VM paused for stop-and-copy), picoseconds. */
  stoppedAt?: bigint;
  /** The `pass` of each MIGRATION_PASS event (one per dirty-bitmap sync), in order. */
  passEvents: number[];
}

export interface MigrationOptions {
  workDir: string;
  /** Guest RAM. */
  memMiB: number;
  /** Source bandwidth cap (bytes/s): keeps pre-copy slow enough for several passes. */
  maxBandwidth: number;
  /** Downtime limit (ms) during the passes: small, so the 4 MiB working set never converges. */
  downtimeLimitMs: number;
  /** The guest dirties its 4 MiB for this many RTC second ticks, then halts. */
  dirtySeconds: number;
  timeoutMs: number;
  /** Cancel the migration (QMP migrate_cancel) this long after starting it. */
  cancelAfterMs?: number;
  /** Switch to post-copy (QMP migrate-start-postcopy) this long after starting. */
  postcopyAfterMs?: number;
  /** Raise the downtime limit to this many ms `after` ms into the migration: QEMU then
   *  stops a guest that is still dirtying, with its whole working set left for
   *  stop-and-copy (a large ram.downtime-bytes). */
  raiseDowntime?: { after: number; toMs: number };
  /** Migration capabilities enabled on both sides (e.g. multifd), besides `events`. */
  capabilities?: string[];
  /** Migration parameters set on both sides (e.g. multifd-channels). */
  parameters?: Record<string, unknown>;
  /** Extra QEMU arguments per side (e.g. a tls-creds-x509 object). */
  extraArgs?: { src?: string[]; dst?: string[] };
  /** Take the destination port from libvirt's migration range (49152–49215), where
   *  migscope looks for migration streams that have no QEVM magic to probe (TLS). */
  migrationPortRange?: boolean;
}

const here = new URL('.', import.meta.url).pathname;

/** Assembles the guest (nasm) into a 1 MiB raw disk image. */
export function buildGuestImage(workDir: string, dirtySeconds: number): string {
  const bin = join(workDir, `guest-${dirtySeconds}.bin`);
  const img = join(workDir, `disk-${dirtySeconds}.img`);
  execFileSync('nasm', ['-f', 'bin', `-DDIRTY_SECONDS=${dirtySeconds}`, join(here, 'dirty-guest.asm'), '-o', bin], { timeout: 20_000 });
  copyFileSync(bin, img);
  truncateSync(img, 1 << 20);
  return img;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A port of [from, to] nobody listens on (bound and released, bounded tries). */
async function freePortIn(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    const srv = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      srv.close();
      await once(srv, 'close');
      return port;
    }
  }
  throw new Error(`no free port in ${from}–${to}`);
}

async function waitExit(p: ChildProcess, ms: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await Promise.race([once(p, 'exit'), sleep(ms)]);
}

async function stop(p: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  p.kill(signal);
  await waitExit(p, 3_000);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

async function waitQuiet(path: string, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  let last = -1;
  let stable = 0;
  while (Date.now() < until && stable < 3) {
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    stable = size === last ? stable + 1 : 0;
    last = size;
    await sleep(250);
  }
}

/** Captures of one migration made at most: the first plus re-runs after a capture with holes. */
const CAPTURE_ATTEMPTS = 3;

/**
 * Runs one captured migration and returns the pcap path and query-migrate's final answer.
 * The capture is the ground truth the tests hold migscope to, so it must hold every
 * byte the source sent: on a loaded machine tcpdump on lo sometimes misses segments of
 * the fast stream (seen in full runs, never alone). A capture with a hole in any
 * client → server connection is thrown away and the migration run again (bounded);
 * migscope's own handling of lost bytes is tested on crafted captures (test/hostile).
 */
export async function runQemuMigration(opts: MigrationOptions, name: string): Promise<MigrationRun> {
  let holes = '';
  for (let attempt = 1; attempt <= CAPTURE_ATTEMPTS; attempt++) {
    const run = await captureMigration(opts, name);
    holes = await streamHoles(run.pcap, run.port);
    if (holes === '') return run;
    console.warn(`real QEMU ${name}: capture ${attempt} has holes (${holes}); running the migration again`);
  }
  throw new Error(`real QEMU ${name}: tcpdump missed stream bytes in ${CAPTURE_ATTEMPTS} captures (${holes})`);
}

/**
 * Holes in the client → server payload of every connection to `port`, by tshark's
 * relative sequence numbers ('' when none): a segment starting past the bytes seen so
 * far means the capture lost what lies between.
 */
async function streamHoles(pcap: string, port: number): Promise<string> {
  const { stdout } = await execFileAsync('tshark', [
    '-r', pcap, '-Y', `tcp.dstport == ${port} && tcp.len > 0`, '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.seq', '-e', 'tcp.len',
  ], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  const next = new Map<string, number>();
  const holes: string[] = [];
  for (const line of stdout.split('\n')) {
    const [stream, seq, len] = line.split('\t');
    if (!stream || seq === undefined || len === undefined) continue;
    const s = Number(seq);
    const expected = next.get(stream) ?? 1;
    if (s > expected) holes.push(`stream ${stream}: ${s - expected} bytes at ${expected}`);
    next.set(stream, Math.max(expected, s + Number(len)));
  }
  return holes.slice(0, 3).join('; ');
}

async function captureMigration(opts: MigrationOptions, name: string): Promise<MigrationRun> {
  const img = buildGuestImage(opts.workDir, opts.dirtySeconds);
  const port = opts.migrationPortRange ? await freePortIn(49152, 49215) : await freePort();
  const pcap = join(opts.workDir, `${name}.pcap`);
  const qemuArgs = (sock: string): string[] => [
    '-machine', 'pc,accel=tcg', '-m', String(opts.memMiB), '-display', 'none', '-nodefaults',
    '-drive', `file=${img},format=raw,if=ide,snapshot=on`, '-qmp', `unix:${sock},server,nowait`,
  ];
  const srcSock = join(opts.workDir, `${name}-src.qmp`);
  const dstSock = join(opts.workDir, `${name}-dst.qmp`);
  let src: ChildProcess | undefined;
  let dst: ChildProcess | undefined;
  let dump: ChildProcess | undefined;
  let qmp: QmpClient | undefined;
  const deadline = Date.now() + opts.timeoutMs;
  try {
    dump = spawn('tcpdump', ['-i', 'lo', '-s', '0', '-B', '65536', '-U', '-w', pcap, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let dumpErr = '';
    const listening = new Promise<void>((resolve) => {
      dump!.stderr!.on('data', (d: Buffer) => { dumpErr += d.toString(); if (dumpErr.includes('listening')) resolve(); });
    });
    await Promise.race([listening, sleep(10_000)]);
    if (!dumpErr.includes('listening')) throw new Error(`tcpdump did not start: ${dumpErr}`);
    src = spawn('qemu-system-x86_64', [...qemuArgs(srcSock), ...(opts.extraArgs?.src ?? [])], { stdio: 'ignore' });
    dst = spawn('qemu-system-x86_64', [...qemuArgs(dstSock), ...(opts.extraArgs?.dst ?? []), '-incoming', 'defer'], { stdio: 'ignore' });
    // Capabilities such as multifd must be set on the destination before it listens.
    const caps = [{ capability: 'events', state: true }, ...(opts.capabilities ?? []).map((capability) => ({ capability, state: true }))];
    const dstQmp = await QmpClient.open(dstSock);
    try {
      await dstQmp.cmd('migrate-set-capabilities', { capabilities: caps });
      if (opts.parameters) await dstQmp.cmd('migrate-set-parameters', opts.parameters);
      await dstQmp.cmd('migrate-incoming', { uri: `tcp:127.0.0.1:${port}` });
    } finally {
      dstQmp.close();
    }
    qmp = await QmpClient.open(srcSock);
    await qmp.cmd('migrate-set-capabilities', { capabilities: caps });
    await qmp.cmd('migrate-set-parameters', { 'max-bandwidth': opts.maxBandwidth, 'downtime-limit': opts.downtimeLimitMs, ...opts.parameters });
    // Wait (bounded) until the guest has booted and dirties its pages: the first word of
    // its 4 MiB region is counted up. On a loaded machine a fixed sleep was too short
    // (a migration of a guest still in the BIOS converged at once).
    for (let i = 0; i < 100; i++) {
      const out = await qmp.cmd<string>('human-monitor-command', { 'command-line': 'xp /1wx 0x200000' });
      const word = /:\s*0x([0-9a-f]+)/i.exec(out);
      if (word && parseInt(word[1]!, 16) !== 0) break;
      await sleep(100);
    }
    await qmp.cmd('migrate', { uri: `tcp:127.0.0.1:${port}` });
    if (opts.raiseDowntime !== undefined) {
      await sleep(opts.raiseDowntime.after);
      await qmp.cmd('migrate-set-parameters', { 'downtime-limit': opts.raiseDowntime.toMs });
    }
    if (opts.postcopyAfterMs !== undefined) {
      await sleep(opts.postcopyAfterMs);
      await qmp.cmd('migrate-start-postcopy');
    }
    if (opts.cancelAfterMs !== undefined) {
      await sleep(opts.cancelAfterMs);
      await qmp.cmd('migrate_cancel');
    }
    const expected = opts.cancelAfterMs === undefined ? 'completed' : 'cancelled';
    let info: QueryMigrate = { status: 'none' };
    while (Date.now() < deadline) {
      info = await qmp.cmd<QueryMigrate>('query-migrate');
      if (info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled') break;
      await sleep(100);
    }
    if (info.status !== expected) throw new Error(`migration did not end ${expected}: ${JSON.stringify(info)}`);
    // tcpdump lags behind a fast loopback stream; packets it has not read yet are lost
    // when it is stopped, so wait (bounded) until the capture file stops growing.
    await sleep(300);
    await stop(src);
    await waitQuiet(pcap, 15_000);
    const stopped = qmp.events.find((e) => e.event === 'STOP')?.ts;
    const passEvents = qmp.events.filter((e) => e.event === 'MIGRATION_PASS').map((e) => (e.data as { pass: number }).pass);
    return stopped === undefined ? { pcap, port, truth: info, passEvents } : { pcap, port, truth: info, stoppedAt: stopped, passEvents };
  } finally {
    qmp?.close();
    await stop(src);
    await stop(dst);
    await stop(dump, 'SIGINT');
  }
}
