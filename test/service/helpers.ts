/**
 * Helpers for the `serve` tests: start `migscope serve` as a process (the built CLI,
 * as a user runs it) on a loopback port it picks itself, and stop it by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PhaseEvent } from '../../src/phases/events.js';
import { freePort } from '../real/harness/qemu-migration.js';

export const repoRoot = resolve(__dirname, '../..');
export const cli = join(repoRoot, 'bin/migscope.js');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  /** Resolves when serve says every source was read. */
  drained: Promise<void>;
  stop: () => Promise<number | null>;
}

export async function startServe(args: string[], timeoutMs = 30_000): Promise<ServeProcess> {
  const child = spawn('node', [cli, 'serve', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let onDrained: () => void = () => {};
  const drained = new Promise<void>((r) => { onDrained = r; });
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`serve did not start: ${err}`)), timeoutMs);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /listening on (http:\/\/\S+?)\/ /.exec(err);
      if (m) { clearTimeout(timer); res(m[1]!); }
      if (err.includes('all sources read')) onDrained();
    });
    child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`serve exited ${code}: ${err}`)); });
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child, url, drained, stderr: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** NDJSON text → events with bigint timestamps/durations (the fields analyze writes as strings). */
export function parseEvents(text: string): PhaseEvent[] {
  const big = new Set(['ts', 'duration', 'lostDuration', 'total', 'libvirtTotal', 'downtime', 'start', 'end', 'min', 'max', 'eta', 'passDuration', 'since', 'idle']);
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l, (k, v: unknown) =>
    (big.has(k) && typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : v)) as PhaseEvent);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface PrometheusProcess {
  /** Instant query through Prometheus' HTTP API. */
  query: (q: string) => Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** The one series a query must return, as a number. */
  one: (q: string) => Promise<number>;
  stop: () => Promise<void>;
}

export const PROMETHEUS = '/usr/bin/prometheus';

/**
 * A real Prometheus scraping `target` (host:port) every second, its TSDB in `dir`,
 * returned once the target is up.
 */
export async function startPrometheus(dir: string, target: string): Promise<PrometheusProcess> {
  const promPort = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, [
    'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:',
    '  - job_name: migscope', '    static_configs:', `      - targets: ['${target}']`, '',
  ].join('\n'));
  let promLog = '';
  const prom = spawn(PROMETHEUS, [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${promPort}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  prom.stderr!.on('data', (b: Buffer) => { promLog += b.toString(); });
  const stop = async (): Promise<void> => {
    if (prom.exitCode !== null || prom.signalCode !== null) return;
    const exited = new Promise((r) => prom.once('exit', r));
    prom.kill('SIGTERM');
    await exited;
  };
  const api = `http://127.0.0.1:${promPort}/api/v1`;
  const query: PrometheusProcess['query'] = async (q) => {
    const r = await fetch(`${api}/query?query=${encodeURIComponent(q)}`);
    const body = await r.json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
    return body.data.result;
  };
  try {
    await waitFor('Prometheus ready', async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`).then((r) => r.ok, () => false)) || undefined, 60_000)
      .catch((e: Error) => { throw new Error(`${e.message}: ${promLog}`); });
    await waitFor('the scrape target up', async () => ((await query('up{job="migscope"}'))[0]?.value[1] === '1') || undefined, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const one = async (q: string): Promise<number> => {
    const r = await query(q);
    if (r.length !== 1) throw new Error(`${q}: ${r.length} series, expected 1: ${JSON.stringify(r)}`);
    return Number(r[0]!.value[1]);
  };
  return { query, one, stop };
}
