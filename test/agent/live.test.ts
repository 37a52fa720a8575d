/**
 * Agents on live sources against a real nats-server, in network namespaces this file
 * creates. The two sides of a generated migration (source link; destination link, its
 * clock +350 µs) become two DPMI measurement-frame streams, MAMPIDs `src` and `dst`,
 * replayed in real time into one veth. One agent captures `dpmi-iface:IF/src`, another
 * `dpmi-iface:IF/dst,idle` — one MP per MAMPID, `idle` seeing nothing at all. The
 * aggregator (`analyze --subscribe`) must give the phases of `analyze` of the truth and
 * the offset within 10 µs, and finish the migration while the agents still run (the idle
 * MP's watermark advances with the wall clock); stopping the agents ends every MP and
 * so the aggregator (end of stream, not its idle timeout).
 *
 * Everything runs in the receiving namespace (nats-server on its loopback, agents,
 * aggregator), the frames come from the sending one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregatorEvent, ClockOffsetEvent } from '../../src/agent/aggregate.js';
import { tempDir } from '../phases/generated.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { isCI, requirement } from '../live/helpers.js';
import { createVethPair, sh, type VethPair } from '../live/netns.js';
import { NatsServer, natsServerMissing } from './nats-server.js';
import { abs, expectTruthPhases, makeTwoMpTrace, parseNdjson, SHIFT, US, type TwoMpTrace } from './shared-trace.js';

const missing = requirement() ?? natsServerMissing();
if (missing && !isCI) console.log(`skipping live agent tests: ${missing}`);
const CLI = join(__dirname, '../../bin/migscope.js');
const PS_PER_MS = 1_000_000_000n;

interface Proc { p: ChildProcess; out: () => string; err: () => string; done: Promise<number | null> }

function inNs(ns: string, args: string[]): Proc {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  return { p, out: () => out, err: () => err, done };
}

async function until(what: string, ok: () => boolean, ms: number, why: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${why()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The packet sockets open in `ns` (/proc/net/packet is per namespace). */
function packetSockets(ns: string): number {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/packet'], { encoding: 'utf8', timeout: 5000 });
  return Math.max(0, (r.stdout ?? '').split('\n').filter((l) => l.trim() !== '').length - 1);
}

/** Two nanosecond pcaps of frames → one, records merged by their (outer) time. */
function mergePcaps(a: string, b: string, out: string): number {
  const records = (file: string) => {
    const buf = readFileSync(file);
    const recs: { t: bigint; bytes: Buffer }[] = [];
    for (let off = 24; off + 16 <= buf.length && recs.length < 1_000_000;) {
      const len = 16 + buf.readUInt32LE(off + 8);
      recs.push({ t: BigInt(buf.readUInt32LE(off)) * 1_000_000_000n + BigInt(buf.readUInt32LE(off + 4)), bytes: buf.subarray(off, off + len) });
      off += len;
    }
    return { header: buf.subarray(0, 24), recs };
  };
  const x = records(a);
  const y = records(b);
  const all = [...x.recs, ...y.recs].sort((p, q) => (p.t < q.t ? -1 : p.t > q.t ? 1 : 0));
  writeFileSync(out, Buffer.concat([x.header, ...all.map((r) => r.bytes)]));
  return all.length;
}

describe.skipIf(missing !== undefined && !isCI)('live agents (dpmi-iface, one MP per MAMPID) → real nats-server → aggregator', () => {
  const { dir, cleanup } = tempDir();
  let pair: VethPair | undefined;
  // Every server and process started, also by a retried attempt, is stopped in afterAll.
  const servers: NatsServer[] = [];
  const procs: Proc[] = [];
  beforeAll(() => {
    if (missing) throw new Error(missing);
    requireCompiledWorker();
    pair = createVethPair(`n${process.pid % 10000}`);
    sh('ip', ['-n', pair.rxNs, 'link', 'set', 'lo', 'up']);
  }, 120_000);
  afterAll(async () => {
    for (const x of procs) if (x.p.exitCode === null && x.p.signalCode === null) x.p.kill('SIGKILL');
    for (const s of servers) await s.cleanup();
    pair?.remove();
    cleanup();
  });

  it('two MPs replayed live (+350 µs), an idle one: phases equal analyze of the truth, offset within 10 µs, done before the agents stop', async () => {
    const { rxNs, txNs, rxIf, txIf } = pair!;
    const nats = new NatsServer(rxNs);
    servers.push(nats);
    await nats.start();
    const url = nats.url;
    const agg = inNs(rxNs, ['analyze', '--subscribe', url, '--expect', 'src,dst,idle', '--reference', 'src', '--correct-clocks', '--json', '--idle', '120']);
    // --lag 3: a replay on a busy machine may run late by more than the default second;
    // the idle MP's watermark, on the host clock, must not pass frames still on their way.
    const agentSrc = inNs(rxNs, ['agent', `dpmi-iface:${rxIf}/src`, '--publish', url, '--mp', 'src', '--lag', '3']);
    const agentDst = inNs(rxNs, ['agent', `dpmi-iface:${rxIf}/dst,idle`, '--publish', url, '--mp', 'dst=dst,idle=idle', '--lag', '3']);
    procs.push(agg, agentSrc, agentDst);
    const logs = (): string => `\nagents:\n${agentSrc.err()}${agentDst.err()}\naggregator:\n${agg.err()}`;
    await until('three capture sockets', () => packetSockets(rxNs) >= 3, 20_000, logs);
    await new Promise((r) => setTimeout(r, 500)); // libpcap's ring allocated behind the socket
    // The migration starts a little after everything is up, on the host's clock: a live
    // source's timestamps are now, and so are the MPs' heartbeats before their first packet.
    const startMs = Date.now() + 8000;
    const fx: TwoMpTrace = await makeTwoMpTrace(dir, {
      generate: { payloadScale: 0.002, startTime: BigInt(startMs) * PS_PER_MS },
      split: {
        format: 'dpmi-frames',
        writerOptions: [
          { mampid: 'src', dpmiFrames: { mtu: 9000, srcMac: '02:00:00:00:00:0a' } },
          { mampid: 'dst', dpmiFrames: { mtu: 9000, srcMac: '02:00:00:00:00:0b' } },
        ],
      },
    });
    const frames = join(dir, 'both-links.pcap');
    expect(mergePcaps(fx.a, fx.b, frames)).toBeGreaterThan(100);

    expect(Date.now()).toBeLessThan(startMs - 500);
    await new Promise((r) => setTimeout(r, startMs - 300 - Date.now()));
    // Real time: the frames leave at the pace of their timestamps.
    sh('ip', ['netns', 'exec', txNs, 'tcpreplay', '-q', '-i', txIf, frames], 60_000);

    // The migration completes while all three MPs are live: the idle one holds nothing back.
    await until('migration-ended from the aggregator', () => agg.out().includes('"type":"migration-ended"'), 20_000, logs);
    expect(agentSrc.p.exitCode).toBeNull();
    expect(agentDst.p.exitCode).toBeNull();
    const killedAt = Date.now();
    agentSrc.p.kill('SIGINT');
    agentDst.p.kill('SIGINT');
    expect(await agentSrc.done, logs()).toBe(0);
    expect(await agentDst.done, logs()).toBe(0);
    // Gone once their end records are acked, not after the 10 s bound on that wait.
    expect(Date.now() - killedAt).toBeLessThan(9500);
    // Every MP sent its end: the aggregator stops now, not after --idle.
    const stoppedAt = Date.now();
    expect(await agg.done, logs()).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);

    const events = parseNdjson<AggregatorEvent>(agg.out());
    const ended = events.filter((e) => e.type === 'mp-status' && e.status === 'ended').map((e) => (e as { mp: string }).mp).sort();
    expect(ended).toEqual(['dst', 'idle', 'src']);
    expect(events.some((e) => e.type === 'mp-status' && e.status === 'silent')).toBe(false);
    expectTruthPhases(fx.truth, events);
    const off = events.filter((e): e is ClockOffsetEvent => e.type === 'clock-offset').at(-1)!;
    expect(off).toMatchObject({ mp: 'dst', reference: 'src' });
    expect(abs(off.offset - SHIFT)).toBeLessThan(10n * US);
    if (process.env.MIGSCOPE_TEST_LOG) console.log(logs(), off);
    // Each agent: its packets captured, none dropped.
    expect(agentSrc.err()).toMatch(/agent src \(dpmi-iface:\S+\/src\): \d+ packets \(0 ring drops, 0 kernel drops\)/);
    expect(agentDst.err()).toMatch(/agent dst \(dpmi-iface:\S+\/dst\): \d+ packets \(0 ring drops, 0 kernel drops\)/);
    expect(agentDst.err()).toMatch(/agent idle \(dpmi-iface:\S+\/idle\): 0 packets/);
  }, 180_000);
});
