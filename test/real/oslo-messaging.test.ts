import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpStreamDecoder } from '../../src/protocols/amqp/decode.js';
import type { AmqpMessage, Anomaly, ProtocolMessage } from '../../src/protocols/types.js';
import { run } from '../protocols/stream-helpers.js';
import { decodeCaptureFile } from './harness/decode-capture.js';
import { realPeerBlocker, runCommand, startTcpdump, type TcpdumpCapture } from './harness/processes.js';
import { startRabbitMq, type Broker } from './harness/rabbitmq.js';
import { epochToPicos, tsharkTcpStreams } from './harness/tshark-streams.js';

/**
 * Real oslo.messaging RPC (python3-oslo.messaging 14, Debian 12) through a real RabbitMQ
 * on 127.0.0.1, captured with tcpdump; ground truth is what oslo serialised (printed by
 * test/real/harness/oslo_rpc.py), and tshark's AMQP dissector checks the frame fields.
 */
const HARNESS = fileURLToPath(new URL('./harness/oslo_rpc.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const INSTANCE_UUID = '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';

interface Truth { kind: 'call' | 'cast' | 'reply' | 'done' | 'error'; method?: string; msg_id?: string | null; reply_q?: string | null; ending?: boolean; failure?: boolean; message?: string }

const blocker = realPeerBlocker(['rabbitmq-server', 'rabbitmqctl', 'epmd', 'tcpdump', 'tshark', PYTHON], () =>
  spawnSync(PYTHON, ['-c', 'import oslo_messaging'], { stdio: 'ignore', timeout: 20_000 }).status === 0
    ? null : 'python3-oslo.messaging is not installed');
if (blocker !== null && process.env.CI !== 'true') console.log(`skipping real oslo.messaging test: ${blocker}`);
const runIt = blocker === null || process.env.CI === 'true';

describe.runIf(runIt)('real oslo.messaging over RabbitMQ', () => {
  let dir = '';
  let broker: Broker | null = null;
  let capture: TcpdumpCapture | null = null;
  let truth: Truth[] = [];
  let messages: ProtocolMessage[] = [];
  const pcap = (): string => join(dir, 'oslo.pcap');

  beforeAll(async () => {
    if (blocker !== null) throw new Error(`real oslo.messaging test cannot run: ${blocker}`);
    dir = mkdtempSync(join(tmpdir(), 'migscope-oslo-'));
    chmodSync(dir, 0o755); // the broker runs as the rabbitmq user
    broker = await startRabbitMq(join(dir, 'rabbit'));
    capture = await startTcpdump(pcap(), `tcp port ${broker.port}`);
    const rpc = await runCommand(PYTHON, [HARNESS, String(broker.port)], { ms: 45_000 });
    await capture.stop();
    capture = null;
    truth = rpc.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Truth);
    if (!truth.some((t) => t.kind === 'done')) throw new Error(`oslo RPC harness failed (${rpc.status}): ${rpc.out.slice(-2000)}`);
    messages = await decodeCaptureFile(pcap());
  }, 120_000);

  afterAll(async () => {
    await capture?.stop();
    await broker?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const amqp = (): AmqpMessage[] => messages.filter((m): m is AmqpMessage => m.protocol === 'amqp');

  it('finds every call and cast published once and delivered once, with method, kind, msg id and reply queue', () => {
    const requests = truth.filter((t) => t.kind === 'call' || t.kind === 'cast');
    expect(requests.map((t) => `${t.kind} ${t.method}`)).toEqual([
      'call check_can_live_migrate_source', 'call pre_live_migration', 'cast live_migration',
      'call post_live_migration_at_destination', 'call rollback_live_migration_at_destination',
    ]);
    for (const t of requests) {
      const seen = amqp().filter((m) => m.oslo?.method === t.method);
      expect(seen.map((m) => m.kind).sort(), t.method).toEqual(['deliver', 'publish']);
      for (const m of seen) {
        expect(m.exchange).toBe('nova');
        expect(m.routingKey).toBe('compute.dst-host');
        expect(m.oslo!.isCall).toBe(t.kind === 'call');
        expect(m.oslo!.isReply).toBe(false);
        expect(m.oslo!.msgId).toBe(t.msg_id ?? undefined);
        expect(m.oslo!.replyQueue).toBe(t.reply_q ?? undefined);
        expect(m.oslo!.instanceUuid).toBe(INSTANCE_UUID);
      }
      const pub = seen.find((m) => m.kind === 'publish')!;
      const del = seen.find((m) => m.kind === 'deliver')!;
      expect(del.ts).toBeGreaterThan(pub.ts);
      expect(del.flowId).not.toBe(pub.flowId);
      expect(del.bodySize).toBe(pub.bodySize);
    }
    expect(amqp().find((m) => m.oslo?.method === 'live_migration')!.oslo!.host).toBe('dst-host');
  });

  it('pairs every call with its final reply (ending) by msg id, published by the server and delivered to the caller', () => {
    const calls = truth.filter((t) => t.kind === 'call');
    const replies = truth.filter((t) => t.kind === 'reply');
    expect(replies.map((r) => r.msg_id).sort()).toEqual(calls.map((c) => c.msg_id).sort());
    for (const c of calls) {
      const call = amqp().find((m) => m.kind === 'publish' && m.oslo?.msgId === c.msg_id && m.oslo?.isCall === true)!;
      const rep = amqp().filter((m) => m.oslo?.isReply === true && m.oslo.msgId === c.msg_id);
      expect(rep.map((m) => m.kind).sort(), c.method).toEqual(['deliver', 'publish']);
      const truthReply = replies.find((r) => r.msg_id === c.msg_id)!;
      for (const m of rep) {
        expect(m.oslo!.ending).toBe(truthReply.ending);
        expect(m.oslo!.failure !== undefined).toBe(truthReply.failure);
        expect(m.oslo!.method).toBeUndefined();
        expect(m.routingKey).toBe(c.reply_q); // oslo 14 replies via the default exchange
        expect(m.exchange).toBe('');
        expect(m.ts).toBeGreaterThan(call.ts);
      }
    }
    const failed = amqp().find((m) => m.oslo?.isReply === true && m.oslo.failure !== undefined)!;
    expect(failed.oslo!.failure).toBe('ValueError: rollback refused for the test');
  });

  it('raises no AMQP protocol errors on real traffic', () => {
    const errors = messages.filter((m): m is Anomaly => m.protocol === 'anomaly' && m.code.startsWith('AMQP_'));
    expect(errors).toEqual([]);
  });

  it("agrees with tshark's AMQP dissector on every publish/deliver (method, exchange, routing key, timestamp)", () => {
    const out = execFileSync('tshark', [
      '-r', pcap(), '-d', `tcp.port==${broker!.port},amqp`, '-Y', 'amqp.method.class==60', '-T', 'fields',
      '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.time_epoch', '-e', 'amqp.method.method',
      '-e', 'amqp.method.arguments.exchange', '-e', 'amqp.method.arguments.routing_key',
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
    const fromTshark: string[] = [];
    for (const line of out.split('\n')) {
      if (line === '') continue;
      const [epoch, methods, exchanges, keys] = line.split('\t') as [string, string, string, string];
      const ids = methods.split('|');
      const content = ids.filter((m) => m === '40' || m === '60');
      if (content.length === 0) continue;
      // Only frames holding nothing but publishes/delivers: their argument lists align.
      expect(content.length, `frame at ${epoch} mixes methods: ${methods}`).toBe(ids.length);
      const ex = content.length === 1 ? [exchanges] : exchanges.split('|');
      const rk = content.length === 1 ? [keys] : keys.split('|');
      expect(ex.length).toBe(content.length);
      content.forEach((m, i) => fromTshark.push(`${m === '40' ? 'publish' : 'deliver'} ${ex[i]} ${rk[i]} ${epochToPicos(epoch)}`));
    }
    const ours = amqp().map((m) => `${m.kind} ${m.exchange} ${m.routingKey} ${m.ts}`);
    expect(ours.length).toBeGreaterThanOrEqual(18);
    expect([...ours].sort()).toEqual([...fromTshark].sort());
  });

  it("gives the same messages when fed tshark's per-connection TCP payload (independent reassembly)", () => {
    const viaTshark: string[] = [];
    for (const s of tsharkTcpStreams(pcap())) {
      const ends = (['c2s', 's2c'] as const).map((dir) => ({ dir, ts: s.fin[dir] ?? s.segments.at(-1)?.ts ?? 0n }));
      for (const m of run((e) => new AmqpStreamDecoder(s.flow, e), s.segments, ends)) {
        if (m.protocol === 'amqp') viaTshark.push(JSON.stringify({ ...m, flowId: 0 }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
      }
    }
    const ours = amqp().map((m) => JSON.stringify({ ...m, flowId: 0 }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    expect(viaTshark.length).toBe(ours.length);
    expect(ours.length).toBeGreaterThanOrEqual(18);
    expect(viaTshark.sort()).toEqual(ours.sort());
  });
});
