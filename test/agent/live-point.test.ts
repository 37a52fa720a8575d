/**
 * The live measurement point without a capture: protocol messages (as the live
 * pipeline hands them over) → records. Heartbeats on an idle MP advance with the wall
 * clock; sightings of the messages themselves estimate the clock offset; the merged
 * phases equal analyze of the truth. The same with a real capture: live.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aggregation, type AggregatorEvent, type ClockOffsetEvent } from '../../src/agent/aggregate.js';
import { LiveMeasurementPoint } from '../../src/agent/live-point.js';
import type { HeartbeatRecord, MpRecord } from '../../src/agent/records.js';
import { Dissector } from '../../src/dissect/dissector.js';
import { openCapture } from '../../src/ingest/file-source.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { tempDir } from '../phases/generated.js';
import { abs, expectTruthPhases, makeTwoMpTrace, SHIFT, US, type TwoMpTrace } from './shared-trace.js';

const MS = 1_000_000_000n;

async function messagesOf(path: string): Promise<ProtocolMessage[]> {
  const out: ProtocolMessage[] = [];
  const d = new Dissector((m) => out.push(m));
  const f = await openCapture(path);
  for await (const batch of f.batches()) for (const p of batch) d.packet(p);
  await f.close();
  d.finish();
  return out;
}

/** A wall clock the test moves (ms since the epoch). */
function fakeWall(startMs: number) {
  let now = startMs;
  return { now: () => now, set: (ms: number) => { now = ms; }, add: (ms: number) => { now += ms; } };
}

const heartbeats = (rs: readonly MpRecord[]): bigint[] => rs.filter((r): r is HeartbeatRecord => r.t === 'hb').map((r) => r.watermark);

describe('live measurement point (messages → records)', () => {
  const { dir, cleanup } = tempDir();
  let fx: TwoMpTrace;
  let ma: ProtocolMessage[] = [];
  let mb: ProtocolMessage[] = [];
  beforeAll(async () => {
    fx = await makeTwoMpTrace(dir);
    [ma, mb] = await Promise.all([messagesOf(fx.a), messagesOf(fx.b)]);
  });
  afterAll(cleanup);

  it('an idle MP\'s watermark advances with the wall clock: before any message from the host clock, then from the newest message', () => {
    const m = ma[0]!;
    const t = m.tsEnd > m.ts ? m.tsEnd : m.ts;
    // The host clock 5 s behind the MP's (a DPMI MP's GPS clock, say).
    const wall = fakeWall(Number(t / MS) - 5000);
    const out: MpRecord[] = [];
    const mp = new LiveMeasurementPoint('idle', (r) => out.push(r), { wallMs: wall.now, lag: 1000n * MS });
    mp.heartbeat();
    wall.add(2500);
    mp.heartbeat();
    const host0 = (t / MS - 5000n) * MS;
    expect(heartbeats(out)).toEqual([host0 - 1000n * MS, host0 + 1500n * MS]);
    // A message anchors the MP's own clock: from then on its time + the wall time since.
    mp.message(m);
    wall.add(4000);
    mp.heartbeat();
    expect(heartbeats(out).at(-1)!).toBe(t + 4000n * MS - 1000n * MS);
    wall.add(60_000);
    mp.heartbeat();
    expect(heartbeats(out).at(-1)!).toBe(t + 64_000n * MS - 1000n * MS);
    expect(heartbeats(out).every((v, i, a) => i === 0 || v >= a[i - 1]!)).toBe(true);
  });

  it('watermarks never go back; a message later than a published watermark is merged at it, counted', () => {
    const t0 = ma[0]!.ts;
    const wall = fakeWall(Number(t0 / MS));
    const out: MpRecord[] = [];
    const mp = new LiveMeasurementPoint('a', (r) => out.push(r), { wallMs: wall.now, lag: 100n * MS });
    mp.message(ma[0]!);
    wall.add(10_000);
    mp.heartbeat();
    const published = heartbeats(out).at(-1)!;
    expect(published).toBeGreaterThan(ma[1]!.tsEnd);
    mp.message(ma[1]!); // decoded 10 s late: behind the watermark
    expect(mp.counts.raised).toBe(1);
    const last = out.at(-1)!;
    expect(last.t === 'msg' && last.wire).toBe(published);
    expect(last.t === 'msg' && last.msg.ts).toBe(ma[1]!.ts);
    mp.heartbeat();
    expect(heartbeats(out).at(-1)!).toBeGreaterThanOrEqual(published);
    expect(out.map((r) => r.seq)).toEqual(out.map((_, i) => i + 1));
  });

  it('two live MPs and an idle one: the idle MP holds the merge back only by its lag; message sightings give the offset; phases equal the truth', () => {
    // Both MPs' messages in order of their last packet, as two captures running side by side
    // would hand them over, with the host clock = the source MP's clock.
    const both = [...ma.map((m) => ({ m, mp: 'src' })), ...mb.map((m) => ({ m, mp: 'dst' }))];
    const end = (m: ProtocolMessage): bigint => (m.tsEnd > m.ts ? m.tsEnd : m.ts);
    both.sort((x, y) => (end(x.m) < end(y.m) ? -1 : end(x.m) > end(y.m) ? 1 : 0));
    const wall = fakeWall(Number(end(both[0]!.m) / MS));
    const events: AggregatorEvent[] = [];
    let delivered = 0;
    let lastDeliveredTs = 0n;
    const agg = new Aggregation({ onEvent: (e) => events.push(e), onMessage: (m) => { delivered++; lastDeliveredTs = m.ts; }, expect: ['src', 'dst', 'idle'], correctClocks: true, reference: 'src' });
    const lag = 200n * MS;
    const mps = new Map(['src', 'dst', 'idle'].map((n) => [n, new LiveMeasurementPoint(n, (r) => agg.record(r), { wallMs: wall.now, lag })]));
    let nextBeat = wall.now();
    for (const { m, mp } of both) {
      // Wall time follows the wire (the source's clock); the destination's is +350 µs.
      const t = Number(end(m) / MS) - (mp === 'dst' ? Number(SHIFT / MS) : 0);
      if (t > wall.now()) wall.set(t);
      while (nextBeat <= wall.now()) {
        for (const p of mps.values()) p.heartbeat();
        nextBeat += 100;
      }
      mps.get(mp)!.message(m);
    }
    const before = delivered;
    // Capture over, nothing sent any more: the idle MP and the two others heartbeat on.
    for (let i = 0; i < 10; i++) {
      wall.add(100);
      for (const p of mps.values()) p.heartbeat();
    }
    expect(delivered).toBeGreaterThan(before);
    // Everything up to the last message is out before any MP ended: nothing waits for the idle one.
    expect(lastDeliveredTs).toBeGreaterThan(end(both.at(-1)!.m) - lag - 1000n * MS);
    expect(events.some((e) => e.type === 'migration-ended')).toBe(true);
    const phasesBeforeEnd = events.filter((e) => e.type === 'phase-ended').length;
    expect(phasesBeforeEnd).toBe(fx.truth.filter((e) => e.type === 'phase-ended').length);
    for (const p of mps.values()) p.finish();
    const s = agg.finish();
    expect(s.messages).toBe(fx.truthMessages);
    expect(s.merge.lostRecords).toBe(0);
    const off = events.filter((e): e is ClockOffsetEvent => e.type === 'clock-offset').at(-1)!;
    expect(off.mp).toBe('dst');
    expect(abs(off.offset - SHIFT)).toBeLessThan(10n * US);
    expect(abs(off.offset - SHIFT)).toBeLessThanOrEqual(off.bound);
    expectTruthPhases(fx.truth, events);
    expect(events.filter((e) => e.type === 'mp-status').map((e) => (e as { mp: string }).mp).sort()).toEqual(['dst', 'idle', 'src']);
  });
});
