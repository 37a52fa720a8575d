/**
 * A real nats-server (Debian package, scripts/setup.sh) with JetStream on a loopback
 * port and a temporary store, started and stopped by the tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Why nats-server cannot run here, or undefined when it can. */
export function natsServerMissing(): string | undefined {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'nats-server is not installed (apt-get install nats-server; scripts/setup.sh does)';
  return undefined;
}

export class NatsServer {
  private proc: ChildProcess | undefined;
  readonly store = mkdtempSync(join(tmpdir(), 'migscope-nats-'));
  log = '';
  /** 0 until the first start: nats-server picks a free port itself (no race with other tests). */
  port = 0;

  /** `netns`: run inside that network namespace (its loopback), for agents capturing there. */
  constructor(private readonly netns?: string) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.log = '';
    const args = ['-a', '127.0.0.1', '-p', this.port === 0 ? '-1' : String(this.port), '-js', '-sd', this.store];
    // `ip netns exec` execs the server: the child's pid is the server's.
    this.proc = this.netns === undefined
      ? spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('ip', ['netns', 'exec', this.netns, 'nats-server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => { this.log += d.toString(); });
    this.proc.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
    for (let i = 0; i < 300; i++) {
      const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(this.log);
      if (m && this.log.includes('Server is ready')) {
        this.port = Number(m[1]);
        // From the root namespace the server's loopback is out of reach: its log must do.
        if (this.netns !== undefined || await this.accepting()) return;
      }
      await sleep(100);
    }
    throw new Error(`nats-server did not start:\n${this.log}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (p.exitCode === null) p.kill('SIGKILL');
    this.proc = undefined;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.store, { recursive: true, force: true });
  }

  private accepting(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = tcpConnect(this.port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
  }
}
