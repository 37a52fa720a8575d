import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Whether a program is on PATH (or an absolute path exists and runs). */
export function haveProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

/**
 * For real-peer tests: why they cannot run here, or null. Under CI a missing tool is a
 * failure (CI installs everything with scripts/setup.sh), locally a printed skip.
 */
export function realPeerBlocker(programs: string[], extra: () => string | null = () => null): string | null {
  if (process.getuid?.() !== 0) return 'needs root (tcpdump on lo)';
  const missing = programs.filter((p) => !haveProgram(p));
  if (missing.length > 0) return `missing ${missing.join(', ')} (scripts/setup.sh installs them)`;
  return extra();
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves when `child` exits (or after `ms`, then kills it by its pid). */
export function waitExit(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(child.exitCode); return; }
    const timer = setTimeout(() => {
      if (child.pid !== undefined) try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, ms);
    child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
}

export interface TcpdumpCapture {
  /** Stops tcpdump (SIGINT, so it flushes) and waits for it. */
  stop(): Promise<void>;
}

/**
 * tcpdump on loopback into `file`; resolves once it is listening. --immediate-mode:
 * otherwise packets wait in the kernel's TPACKET_V3 block until it times out, and a
 * SIGINT before that loses them.
 */
export async function startTcpdump(file: string, filter: string, timeoutMs = 10_000): Promise<TcpdumpCapture> {
  const child = spawn('tcpdump', ['-i', 'lo', '-s', '0', '-U', '--immediate-mode', '-n', '-w', file, ...filter.split(' ')], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', () => { clearTimeout(timer); reject(new Error(`tcpdump exited: ${err}`)); });
  });
  return {
    async stop(): Promise<void> {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGINT');
      await waitExit(child, 5000);
    },
  };
}

/** Runs a command to completion without blocking the event loop; killed after `ms`. */
export function runCommand(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; ms: number }): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('error', (e) => resolve({ status: null, out: out + String(e) }));
    void waitExit(child, opts.ms).then((status) => resolve({ status, out }));
  });
}
