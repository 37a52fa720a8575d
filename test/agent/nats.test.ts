import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregatorEvent, ClockOffsetEvent } from '../../src/agent/aggregate.js';
import { runAgent } from '../../src/agent/nats/agent.js';
import { runNatsAggregator, type NatsAggregatorSummary } from '../../src/agent/nats/aggregator.js';
import { natsAggregation } from '../../src/agent/nats/messages.js';
import { EVENT_STREAM, RECORD_STREAM, recordSubject } from '../../src/agent/nats/streams.js';
import { decodeRecords, encodeValue } from '../../src/agent/records.js';
import { decodeMsgpackStream } from '../../src/core/msgpack.js';
import { tempDir } from '../phases/generated.js';
import { NatsServer, natsServerMissing } from './nats-server.js';
import { abs, expectTruthPhases, makeTwoMpTrace, SHIFT, US, type TwoMpTrace } from './shared-trace.js';

const missing = natsServerMissing();
const BIN = join(__dirname, '../../bin/migscope.js');
const MPS = ['src', 'dst'];

/** The one-shot aggregator (analyze --subscribe) in this process. */
async function aggregate(url: string, events: AggregatorEvent[], extra: Partial<Parameters<typeof runNatsAggregator>[0]> = {}): Promise<NatsAggregatorSummary> {
  return runNatsAggregator({ url, expect: MPS, correctClocks: true, idleTimeout: 20_000, onEvent: (e) => events.push(e), ...extra });
}

/** Events as stored on migscope.events.>, with their numbers, in stream order. */
async function storedEvents(url: string): Promise<{ no: number; ev: AggregatorEvent }[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const n = (await jsm.streams.info(EVENT_STREAM)).state.messages;
    const out: { no: number; ev: AggregatorEvent }[] = [];
    if (n === 0) return out;
    const c = await jetstream(nc).consumers.get(EVENT_STREAM, { deliver_policy: DeliverPolicy.All });
    const it = await c.consume();
    for await (const m of it) {
      out.push({ no: Number(m.headers?.get('Migscope-Event')), ev: decodeMsgpackStream(m.data)[0] as AggregatorEvent });
      if (out.length >= n) break;
    }
    await it.close();
    return out;
  } finally {
    await nc.close();
  }
}

/** Last sequence number the stream holds for an MP. */
async function storedSeq(url: string, mp: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const m = await (await jetstreamManager(nc)).streams.getMessage(RECORD_STREAM, { last_by_subj: recordSubject(mp) }).catch(() => null);
    const r = m ? decodeRecords(m.data) : 'none';
    return typeof r === 'string' ? 0 : r.at(-1)!.seq;
  } finally {
    await nc.close();
  }
}

function agentProcess(url: string, file: string, mp: string, args: string[] = []) {
  const p = spawn(process.execPath, [BIN, 'agent', file, '--publish', url, '--mp', mp, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }>((resolve) => p.on('exit', (code, signal) => resolve({ code, signal, err })));
  return { p, done };
}

describe.skipIf(missing !== undefined)(`agents → NATS JetStream → aggregator (real nats-server)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  const { dir, cleanup } = tempDir();
  let fx: TwoMpTrace;
  const servers: NatsServer[] = [];
  const server = async (): Promise<NatsServer> => {
    const s = new NatsServer();
    servers.push(s);
    await s.start();
    return s;
  };
  beforeAll(async () => { fx = await makeTwoMpTrace(dir); });
  afterAll(async () => {
    for (const s of servers) await s.cleanup();
    cleanup();
  });

  it('two agents (source link, destination link +350 µs): phases equal analyze of the truth, offset within 10 µs, events published once', async () => {
    const nats = await server();
    const [ra, rb] = await Promise.all([
      agentProcess(nats.url, fx.a, 'src').done, agentProcess(nats.url, fx.b, 'dst').done,
    ]);
    expect(ra.code, ra.err).toBe(0);
    expect(rb.code, rb.err).toBe(0);
    // Garbage on an MP subject: counted, never a crash.
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc);
    await js.publish(recordSubject('junk'), new Uint8Array([0xc1, 0xff, 0x00]));
    await js.publish(recordSubject('junk'), encodeValue([{ t: 'msg', mp: 'junk', seq: 1, wire: 5n, msg: { protocol: 'tcp' } }]));
    await js.publish(recordSubject('junk'), encodeValue({ hello: 'world' }));
    await nc.close();
    const events: AggregatorEvent[] = [];
    const s = await aggregate(nats.url, events);
    expect(s.stopped).toBe('ended'); // on the MPs' end records, not on the idle timeout
    expect(s.badRecords).toBe(3);
    const agg = s.aggregation!;
    expect(agg.merge.lostRecords).toBe(0);
    expect(agg.messages).toBe(fx.truthMessages);
    const off = events.filter((e): e is ClockOffsetEvent => e.type === 'clock-offset').at(-1)!;
    expect(off.mp).toBe('dst');
    expect(abs(off.offset - SHIFT)).toBeLessThan(10n * US);
    expectTruthPhases(fx.truth, events);
    const stored = await storedEvents(nats.url);
    expect(stored.map((x) => x.no)).toEqual(events.map((_, i) => i + 1));
    expect(stored.filter((x) => x.ev.type === 'phase-ended').length).toBe(events.filter((e) => e.type === 'phase-ended').length);

    // The same as an async iterable (what serve consumes), with a small high-water mark.
    let messages = 0;
    const iterated: AggregatorEvent[] = [];
    const it = natsAggregation({ url: nats.url, durable: 'iterable', expect: MPS, correctClocks: true, idleTimeout: 20_000, publishEvents: false }, 64);
    for await (const item of it) {
      if (item.kind === 'message') messages++;
      else iterated.push(item.value);
    }
    expect(messages).toBe(fx.truthMessages);
    expect(it.summary?.aggregation?.messages).toBe(fx.truthMessages);
    expect(it.summary?.stopped).toBe('ended');
    expectTruthPhases(fx.truth, iterated);
  });

  it('an agent killed mid-migration and restarted with --resume: nothing lost, nothing twice', async () => {
    const nats = await server();
    const a = agentProcess(nats.url, fx.a, 'src');
    const b = agentProcess(nats.url, fx.b, 'dst', ['--speed', '2']);
    // Kill the destination agent once part of its records are stored.
    for (let i = 0; i < 200 && (await storedSeq(nats.url, 'dst')) < 300; i++) await sleep(50);
    const before = await storedSeq(nats.url, 'dst');
    b.p.kill('SIGKILL');
    const killed = await b.done;
    expect(killed.signal).toBe('SIGKILL');
    expect((await a.done).code).toBe(0);
    const again = agentProcess(nats.url, fx.b, 'dst', ['--resume']);
    const r = await again.done;
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/already stored/);
    expect(before).toBeGreaterThan(0);
    const events: AggregatorEvent[] = [];
    const s = await aggregate(nats.url, events);
    expect(s.stopped).toBe('ended');
    expect(s.aggregation!.merge.lostRecords).toBe(0);
    expect(s.aggregation!.merge.duplicateRecords).toBe(0);
    expect(s.aggregation!.messages).toBe(fx.truthMessages);
    expectTruthPhases(fx.truth, events);
  });

  it('the aggregator stopped mid-migration and restarted resumes from its durable consumer: no event lost or twice', async () => {
    const nats = await server();
    await Promise.all([runAgent([fx.a], { url: nats.url, mp: 'src' }), runAgent([fx.b], { url: nats.url, mp: 'dst' })]);
    // Reference run, another durable consumer, same stream.
    const whole: AggregatorEvent[] = [];
    await aggregate(nats.url, whole, { durable: 'reference', publishEvents: false });
    const first: AggregatorEvent[] = [];
    const stop = new AbortController();
    const s1 = await aggregate(nats.url, first, {
      durable: 'restarted', signal: stop.signal, idleTimeout: undefined,
      onEvent: (e) => { first.push(e); if (e.type === 'phase-ended' && e.phase === 'transfer') stop.abort(); },
    });
    expect(s1.aggregation).toBeUndefined();
    expect(s1.stopped).toBe('signal');
    const second: AggregatorEvent[] = [];
    const s2 = await aggregate(nats.url, second, { durable: 'restarted' });
    expect(s2.replayed).toBeGreaterThan(0);
    expect(s2.stopped).toBe('ended');
    expect(s2.republishSkipped).toBe(first.length);
    const strip = (evs: AggregatorEvent[]) => evs.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    expect(strip([...first, ...second])).toEqual(strip(whole));
    const stored = await storedEvents(nats.url);
    expect(stored.map((x) => x.no)).toEqual(whole.map((_, i) => i + 1));
    expect(strip(stored.map((x) => x.ev))).toEqual(strip(whole));
  });

  it('nats-server restarted while the agents publish: they buffer (bounded), resend, and nothing is lost', async () => {
    const nats = await server();
    const runs = Promise.all([
      runAgent([fx.a], { url: nats.url, mp: 'src', speed: 2, maxBuffered: 2000, ackTimeout: 500 }),
      runAgent([fx.b], { url: nats.url, mp: 'dst', speed: 2, maxBuffered: 2000, ackTimeout: 500 }),
    ]);
    // A rejection before the await below must fail this test, not surface as unhandled.
    runs.catch(() => undefined);
    for (let i = 0; i < 200 && (await storedSeq(nats.url, 'src')) < 2000; i++) await sleep(50);
    await nats.stop();
    await sleep(1500);
    await nats.start();
    const [ra, rb] = await runs;
    expect(ra.publisher.failures + rb.publisher.failures).toBeGreaterThan(0);
    expect(ra.publisher.resent + rb.publisher.resent).toBeGreaterThan(0);
    expect(ra.publisher.peakBuffered).toBeLessThanOrEqual(2000);
    expect(ra.publisher.acked).toBe(ra.publisher.accepted);
    expect(rb.publisher.acked).toBe(rb.publisher.accepted);
    const events: AggregatorEvent[] = [];
    const s = await aggregate(nats.url, events);
    expect(s.stopped).toBe('ended');
    expect(s.aggregation!.merge.lostRecords).toBe(0);
    expect(s.aggregation!.messages).toBe(fx.truthMessages);
    expectTruthPhases(fx.truth, events);
  });
});
