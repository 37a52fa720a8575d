import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A tiny QMP client (JSON lines over a unix socket) for the real-QEMU tests. */
export class QmpClient {
  private buf = '';
  private readonly waiters: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  /** Asynchronous events, with QEMU's own timestamp (CLOCK_REALTIME, as tcpdump's) in picoseconds. */
  readonly events: { event: string; data?: unknown; ts?: bigint }[] = [];

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    sock.on('error', (e) => this.failAll(e));
    sock.on('close', () => this.failAll(new Error('QMP socket closed')));
  }

  /** Connects (retrying until `timeoutMs`), reads the greeting, negotiates capabilities. */
  static async open(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once('error', reject);
        });
        const c = new QmpClient(sock);
        await c.greeting();
        await c.cmd('qmp_capabilities');
        return c;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }

  /** Runs a command; resolves with its `return`, rejects on `error` or after `timeoutMs`. */
  cmd<T = unknown>(execute: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`QMP ${execute} timed out`)), timeoutMs);
      this.waiters.push({
        resolve: (v) => { clearTimeout(timer); resolve(v as T); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private greetingResolve?: () => void;
  private greeting(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no QMP greeting')), 5_000);
      this.greetingResolve = () => { clearTimeout(timer); resolve(); };
    });
  }

  private onData(d: string): void {
    this.buf += d;
    for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      const m = JSON.parse(line) as {
        QMP?: unknown; event?: string; data?: unknown; return?: unknown; error?: { desc: string };
        timestamp?: { seconds: number; microseconds: number };
      };
      if (m.QMP) this.greetingResolve?.();
      else if (m.event) {
        const ev: { event: string; data?: unknown; ts?: bigint } = { event: m.event, data: m.data };
        if (m.timestamp) ev.ts = BigInt(m.timestamp.seconds) * 1_000_000_000_000n + BigInt(m.timestamp.microseconds) * 1_000_000n;
        this.events.push(ev);
      }
      else if (m.error) this.waiters.shift()?.reject(new Error(`QMP error: ${m.error.desc}`));
      else this.waiters.shift()?.resolve(m.return);
    }
  }

  private failAll(e: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }
}
