/**
 * Throughput of the measurement-point path (docs/agents.md): one agent → NATS JetStream
 * (a real nats-server on loopback, file store) → the aggregator, in messages per second,
 * beside the same records through the in-process path (MeasurementPoint → Aggregation,
 * what `analyze --mp-from-file` runs), measured in the same run on the same trace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Aggregation } from '../src/agent/aggregate.js';
import { MeasurementPoint } from '../src/agent/measurement-point.js';
import { runAgent } from '../src/agent/nats/agent.js';
import { runNatsAggregator } from '../src/agent/nats/aggregator.js';
import { openCapture } from '../src/ingest/file-source.js';

export interface NatsThroughput {
  trace: string;
  /** Protocol messages the aggregator delivered to the phase engine (both paths alike). */
  messages: number;
  /** Records the agent published (messages + sightings + heartbeats). */
  records: number;
  inProcessSeconds: number;
  natsSeconds: number;
  inProcessMessagesPerSecond: number;
  natsMessagesPerSecond: number;
  /** NATS path wall time ÷ in-process wall time (> 1: the cost of going through NATS). */
  ratio: number;
}

export function natsRequirement(): string | undefined {
  const r = spawnSync('nats-server', ['--version']);
  return r.error || r.status !== 0 ? 'nats-server not installed (scripts/setup.sh installs it)' : undefined;
}

async function inProcess(path: string): Promise<number> {
  let messages = 0;
  const agg = new Aggregation({ onEvent: () => undefined, onMessage: () => { messages++; }, expect: ['mp'] });
  const mp = new MeasurementPoint('mp', (r) => agg.record(r));
  const f = await openCapture(path);
  try {
    for await (const batch of f.batches()) {
      for (const p of batch) mp.packet(p);
      mp.heartbeat();
    }
  } finally {
    await f.close();
  }
  mp.finish();
  agg.finish();
  return messages;
}

export async function measureNatsThroughput(path: string, trace: string): Promise<NatsThroughput> {
  const t0 = performance.now();
  const messagesLocal = await inProcess(path);
  const inProcessSeconds = (performance.now() - t0) / 1000;

  const store = mkdtempSync(join(tmpdir(), 'mgs-bench-nats-'));
  // -p -1: the server picks a free port and logs it (no race with another process).
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', store], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  server.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  try {
    let port = 0;
    for (let i = 0; i < 300 && port === 0; i++) {
      const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m && log.includes('Server is ready') && (await accepting(Number(m[1])))) port = Number(m[1]);
      else await sleep(100);
    }
    if (port === 0) throw new Error(`nats-server did not start: ${log.slice(-300)}`);
    const url = `nats://127.0.0.1:${port}`;
    let messages = 0;
    const t1 = performance.now();
    const [agent, agg] = await Promise.all([
      runAgent([path], { url, mp: 'mp' }),
      runNatsAggregator({ url, expect: ['mp'], idleTimeout: 30_000, publishEvents: true, onMessage: () => { messages++; } }),
    ]);
    const natsSeconds = (performance.now() - t1) / 1000;
    if (messages !== messagesLocal) throw new Error(`NATS path delivered ${messages} messages, in-process ${messagesLocal}`);
    if (agg.aggregation === undefined) throw new Error('aggregator stopped early');
    return {
      trace, messages, records: agent.records, inProcessSeconds, natsSeconds,
      inProcessMessagesPerSecond: messages / inProcessSeconds, natsMessagesPerSecond: messages / natsSeconds,
      ratio: natsSeconds / inProcessSeconds,
    };
  } finally {
    server.kill('SIGTERM');
    await sleep(200);
    rmSync(store, { recursive: true, force: true });
  }
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
