import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';
import { openCapture } from '../../src/ingest/file-source.js';
import { Dissector } from '../../src/dissect/dissector.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { PhaseEngine } from '../../src/phases/engine.js';
import type { PhaseEvent } from '../../src/phases/events.js';

export const isCI = process.env.CI === 'true';

/** Missing tool or privilege: fail under CI, skip (with the reason printed) locally. */
export function requirement(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw capture)';
  for (const tool of ['tcpdump', 'tcpreplay', 'ip', 'ethtool']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  }
  return undefined;
}

/** The pure-TypeScript path: file reader → Dissector, one thread. */
export async function offlineMessages(path: string): Promise<ProtocolMessage[]> {
  const out: ProtocolMessage[] = [];
  const d = new Dissector((m) => out.push(m));
  const file = await openCapture(path);
  for await (const batch of file.batches()) for (const p of batch) d.packet(p);
  d.finish();
  return out;
}

/** The phase engine over a message sequence: the phase events, as comparable text. */
export function phaseEvents(messages: readonly ProtocolMessage[]): string[] {
  const events: PhaseEvent[] = [];
  const engine = new PhaseEngine({ onEvent: (e) => events.push(e) });
  for (const m of messages) engine.push(m);
  engine.end();
  return events.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
}

/**
 * Messages as comparable text: flow ids differ between paths (the ring path numbers
 * them per worker), so they are renumbered by first appearance.
 */
export function normalise(messages: readonly ProtocolMessage[]): string[] {
  const ids = new Map<number, number>();
  return messages.map((m) => {
    let id = m.flowId;
    if (id >= 0) {
      if (!ids.has(id)) ids.set(id, ids.size);
      id = ids.get(id)!;
    }
    return JSON.stringify({ ...m, flowId: id }, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  });
}

function waitFor(child: ChildProcess, text: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${text}: ${buf}`)), ms);
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (text.test(buf)) { clearTimeout(t); resolve(); }
    });
    child.on('exit', () => { clearTimeout(t); reject(new Error(`exited before ${text}: ${buf}`)); });
  });
}

function get(port: number, path: string, body?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ agent: false, host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET',
      headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.setTimeout(5000, () => req.destroy(new Error('request timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Records a small real trace on loopback: several HTTP connections (requests with JSON
 * bodies, as nova's os-migrateLive) and UDP datagrams, so flows spread over workers.
 */
export async function recordLoopbackTrace(file: string): Promise<void> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dump = spawn('tcpdump', ['-i', 'lo', '-U', '-n', '-w', file, `port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await waitFor(dump, /listening on/, 10_000);
    await new Promise((r) => setTimeout(r, 500)); // tcpdump prints before its socket is fully bound
    for (let c = 0; c < 6; c++) {
      const body = JSON.stringify({ 'os-migrateLive': { host: `compute-${c}`, block_migration: false } });
      await Promise.all([get(port, `/v2.1/servers/${c}/action`, body), get(port, `/v2.1/servers/${c}`)]);
    }
    // A few UDP datagrams: hashed like TCP, not decoded (counted by the dissector).
    const sock = createSocket('udp4');
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => sock.send(`datagram ${i}`, port, '127.0.0.1', () => r()));
    sock.close();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    const exited = new Promise((r) => dump.once('exit', r));
    dump.stderr?.on('data', (d: Buffer) => { if (process.env.H7_DEBUG) console.log(d.toString()); });
    dump.kill('SIGINT');
    await exited;
    server.close();
  }
}

/**
 * Anomalies are aggregated per dissector over windows of wire time, so W workers cut
 * the windows differently: compare their totals per (code, flow endpoints).
 */
export function anomalyTotals(messages: readonly ProtocolMessage[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of messages) {
    if (m.protocol !== 'anomaly') continue;
    const key = `${m.code}|${m.src.ip}:${m.src.port}>${m.dst.ip}:${m.dst.port}`;
    out[key] = (out[key] ?? 0) + m.count;
  }
  return out;
}

export const withoutAnomalies = (messages: readonly ProtocolMessage[]): ProtocolMessage[] =>
  messages.filter((m) => m.protocol !== 'anomaly');

/**
 * Phase events split for comparison across worker counts: anomaly events carry
 * per-window counts, which W workers cut differently, so they compare as totals per
 * code; every other event compares exactly.
 */
export function splitAnomalyEvents<E extends { type: string }>(events: readonly E[]): { phases: E[]; anomalies: Record<string, number> } {
  const anomalies: Record<string, number> = {};
  for (const e of events) {
    if (e.type !== 'anomaly') continue;
    const a = e as unknown as { code: string; count: number };
    const key = a.code;
    anomalies[key] = (anomalies[key] ?? 0) + Number(a.count);
  }
  return { phases: events.filter((e) => e.type !== 'anomaly'), anomalies };
}
