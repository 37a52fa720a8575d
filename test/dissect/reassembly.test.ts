import { describe, expect, it } from 'vitest';
import { Dissector } from '../../src/dissect/dissector.js';
import type { Anomaly, ProtocolMessage } from '../../src/protocols/types.js';
import { Conversation, splitRanges } from './helpers/conversation.js';
import { pkt } from '../helpers/packets.js';
import { type RecordedFlow, RecordingAnalyzer, collect, patternBytes } from './helpers/recorder.js';

const T0 = 1_700_000_000_000_000_000_000n;

function setup(opts: { maxFlowBufferBytes?: number } = {}): { d: Dissector; an: RecordingAnalyzer; msgs: ProtocolMessage[] } {
  const an = new RecordingAnalyzer('libvirt', [16509]);
  const { emit, msgs } = collect();
  return { d: new Dissector(emit, { analyzers: [an], ...opts }), an, msgs };
}

function anomalies(msgs: ProtocolMessage[], kind: string): Anomaly[] {
  return msgs.filter((m): m is Anomaly => m.protocol === 'anomaly' && m.kind === kind);
}

/** Every delivered byte carries the timestamp of the segment that brought it. */
function expectByteTimestamps(rec: RecordedFlow, dir: 'c2s' | 's2c', tsOfOffset: (o: number) => bigint): void {
  let off = 0;
  let checked = 0;
  const wrong: number[] = [];
  for (const e of rec.events) {
    if (e.dir !== dir || e.type === 'end') continue;
    if (e.type === 'data') {
      for (let i = 0; i < e.len; i++) { checked++; if (e.ts !== tsOfOffset(off + i)) wrong.push(off + i); }
    }
    off += e.len;
  }
  expect(checked).toBeGreaterThan(0);
  expect(wrong.slice(0, 10)).toEqual([]);
}

describe('TCP reassembly against ground truth', () => {
  const stream = patternBytes(30_000, 3);
  const ranges = splitRanges(stream.length, 1500);

  function run(order: number[], conv = new Conversation(), opts = {}): { rec: RecordedFlow; msgs: ProtocolMessage[]; d: Dissector } {
    const { d, an, msgs } = setup(opts);
    for (const p of conv.handshake(T0)) d.packet(p);
    order.forEach((i, k) => {
      const [a, b] = ranges[i]!;
      d.packet(conv.data(true, a, stream.subarray(a, b), T0 + 1000n + BigInt(i) * 10n + (k > 10_000 ? 1n : 0n)));
    });
    d.packet(conv.fin(true, stream.length, T0 + 900_000n));
    d.finish();
    expect(an.flows).toHaveLength(1);
    return { rec: an.flows[0]!, msgs, d };
  }
  const segIndex = new Int32Array(stream.length);
  ranges.forEach(([a, b], i) => segIndex.fill(i, a, b));
  const tsOfOffset = (o: number): bigint => T0 + 1000n + BigInt(segIndex[o]!) * 10n;

  it('in order: exact bytes, segment timestamps, end after the last byte', () => {
    const { rec, msgs } = run(ranges.map((_, i) => i));
    expect(rec.bytes('c2s')).toEqual(stream);
    expectByteTimestamps(rec, 'c2s', tsOfOffset);
    const last = rec.events[rec.events.length - 1]!;
    expect(last.type).toBe('end');
    expect(rec.gaps('c2s')).toEqual([]);
    expect(anomalies(msgs, 'tcp-hole')).toEqual([]);
  });

  it('out of order (reversed windows of 7 segments): exact bytes and timestamps', () => {
    const order: number[] = [];
    for (let w = 0; w < ranges.length; w += 7) {
      const win = ranges.map((_, i) => i).slice(w, w + 7).reverse();
      order.push(...win);
    }
    const { rec, msgs } = run(order);
    expect(rec.bytes('c2s')).toEqual(stream);
    expectByteTimestamps(rec, 'c2s', tsOfOffset);
    expect(anomalies(msgs, 'tcp-overlap')).toEqual([]);
  });

  it('duplicated segments (each sent twice, some late) are dropped, not delivered twice', () => {
    const order: number[] = [];
    ranges.forEach((_, i) => { order.push(i); if (i % 3 === 0) order.push(i); if (i > 4 && i % 5 === 0) order.push(i - 4); });
    const { rec, msgs, d } = run(order);
    expect(rec.bytes('c2s')).toEqual(stream);
    expect(anomalies(msgs, 'tcp-overlap')).toEqual([]);
    expect(d.stats.tcp.retransmissions).toBeGreaterThan(0);
  });

  it('overlapping segments with equal content give the exact stream', () => {
    const { d, an, msgs } = setup();
    const conv = new Conversation();
    for (const p of conv.handshake(T0)) d.packet(p);
    const pieces: [number, number][] = [[0, 1000], [500, 1500], [2500, 4000], [1200, 2700], [3900, 5000]];
    pieces.forEach(([a, b], i) => d.packet(conv.data(true, a, stream.subarray(a, b), T0 + 100n + BigInt(i))));
    d.finish();
    expect(an.flows[0]!.bytes('c2s')).toEqual(stream.subarray(0, 5000));
    expect(anomalies(msgs, 'tcp-overlap')).toEqual([]);
  });

  it('overlap with different content: tcp-overlap anomaly, the first data is kept', () => {
    const { d, an, msgs } = setup();
    const conv = new Conversation();
    for (const p of conv.handshake(T0)) d.packet(p);
    d.packet(conv.data(true, 1000, stream.subarray(1000, 2000), T0 + 10n)); // buffered
    const liar = stream.slice(1500, 2500); liar[100] ^= 0xff;                 // disagrees at 1600
    d.packet(conv.data(true, 1500, liar, T0 + 11n));
    d.packet(conv.data(true, 0, stream.subarray(0, 1000), T0 + 12n));
    d.finish();
    const got = an.flows[0]!.bytes('c2s');
    expect(got.subarray(0, 2000)).toEqual(stream.subarray(0, 2000));   // first data kept
    expect(got.subarray(2000, 2500)).toEqual(liar.subarray(500, 1000)); // new part of the liar is new data
    const ov = anomalies(msgs, 'tcp-overlap');
    expect(ov).toHaveLength(1);
    expect(ov[0]!.count).toBe(1);
  });

  it('a missing segment is reported as a hole of exactly its length (at FIN + finish)', () => {
    const missing = 9;
    const [ma, mb] = ranges[missing]!;
    const order = ranges.map((_, i) => i).filter((i) => i !== missing);
    const { rec, msgs } = run(order);
    expect(rec.gaps('c2s')).toEqual([mb - ma]);
    const holes = anomalies(msgs, 'tcp-hole');
    expect(holes.reduce((s, h) => s + h.count, 0)).toBe(mb - ma);
    const expected = new Uint8Array(stream.length - (mb - ma));
    expected.set(stream.subarray(0, ma));
    expected.set(stream.subarray(mb), ma);
    expect(rec.bytes('c2s')).toEqual(expected);
    // The gap sits exactly between the bytes before and after it.
    let off = 0;
    for (const e of rec.events) {
      if (e.type === 'gap') { expect(off).toBe(ma); break; }
      if (e.type === 'data') off += e.len;
    }
  });

  it('the peer acknowledging past a hole declares it at once', () => {
    const { d, an, msgs } = setup();
    const conv = new Conversation();
    for (const p of conv.handshake(T0)) d.packet(p);
    d.packet(conv.data(true, 0, stream.subarray(0, 100), T0 + 10n));
    d.packet(conv.data(true, 150, stream.subarray(150, 300), T0 + 11n));
    expect(an.flows[0]!.gaps('c2s')).toEqual([]);
    d.packet(conv.ack(false, 0, 300, T0 + 12n));
    expect(an.flows[0]!.gaps('c2s')).toEqual([50]);
    expect(an.flows[0]!.bytes('c2s').length).toBe(250);
    expect(anomalies(msgs, 'tcp-hole')[0]!.count).toBe(50);
    // An ACK past everything (the capture lost the tail) is a hole too.
    d.packet(conv.ack(false, 0, 400, T0 + 13n));
    expect(an.flows[0]!.gaps('c2s')).toEqual([50, 100]);
  });

  it('sequence numbers wrapping around 2^32', () => {
    const conv = new Conversation({ cIsn: 0xffffffff - 7000, sIsn: 0xfffffffe });
    const { rec } = run(ranges.map((_, i) => i), conv);
    expect(rec.bytes('c2s')).toEqual(stream);
    const order = ranges.map((_, i) => i);
    [order[3], order[4]] = [order[4]!, order[3]!];
    expect(run(order, conv).rec.bytes('c2s')).toEqual(stream);
  });

  it('mid-stream start: no SYN, bytes from the first segment on', () => {
    const { d, an, msgs } = setup();
    const conv = new Conversation({ cIsn: 123456 });
    for (let i = 5; i < ranges.length; i++) {
      const [a, b] = ranges[i]!;
      d.packet(conv.data(true, a, stream.subarray(a, b), T0 + BigInt(i)));
    }
    d.packet(conv.data(false, 0, stream.subarray(0, 10), T0 + 999n));
    d.finish();
    const rec = an.flows[0]!;
    expect(rec.flow.midstream).toBe(true);
    expect(rec.flow.server.port).toBe(16509);
    expect(rec.bytes('c2s')).toEqual(stream.subarray(ranges[5]![0]));
    expect(rec.bytes('s2c')).toEqual(stream.subarray(0, 10));
    expect(msgs.filter((m) => m.protocol === 'tcp')).toEqual([]);
  });

  it('snaplen-cut segments: the captured part is delivered, the rest is a cut gap (counted, not a hole)', () => {
    const { d, an } = setup();
    const conv = new Conversation();
    for (const p of conv.handshake(T0)) d.packet(p);
    for (let i = 0; i < 4; i++) {
      const full = conv.data(true, i * 1000, stream.subarray(i * 1000, i * 1000 + 1000), T0 + BigInt(i));
      d.packet(pkt(full.data.subarray(0, 54 + 10), full.ts, 1, full.data.length));
    }
    d.finish();
    const rec = an.flows[0]!;
    expect(rec.gaps('c2s')).toEqual([990, 990, 990, 990]);
    expect(rec.bytes('c2s').length).toBe(40);
    expect(rec.bytes('c2s').subarray(10, 20)).toEqual(stream.subarray(1000, 1010));
    expect(rec.gapKinds('c2s')).toEqual(['cut', 'cut', 'cut', 'cut']);
    expect(d.stats.anomalies['tcp-hole']).toBeUndefined();
    expect(d.stats.tcp.cutBytes).toBe(3960);
    expect(d.stats.tcp.holeBytes).toBe(3960);
  });

  it('buffer bound: flow-memory anomaly, skip the hole, keep going', () => {
    const conv = new Conversation();
    const { d, an, msgs } = setup({ maxFlowBufferBytes: 4000 });
    for (const p of conv.handshake(T0)) d.packet(p);
    for (let i = 1; i < 10; i++) d.packet(conv.data(true, i * 1000, stream.subarray(i * 1000, i * 1000 + 1000), T0 + BigInt(i)));
    d.finish();
    const rec = an.flows[0]!;
    expect(rec.gaps('c2s')).toEqual([1000]);
    expect(rec.bytes('c2s')).toEqual(stream.subarray(1000, 10_000));
    expect(anomalies(msgs, 'flow-memory').length).toBeGreaterThan(0);
    expect(d.stats.anomalies['flow-memory']).toBe(1);
  });

  it('both directions, FIN in each: end after each side\'s last byte', () => {
    const { d, an, msgs } = setup();
    const conv = new Conversation();
    for (const p of conv.handshake(T0)) d.packet(p);
    d.packet(conv.data(true, 0, stream.subarray(0, 500), T0 + 10n));
    d.packet(conv.data(false, 0, stream.subarray(500, 800), T0 + 11n, 500));
    d.packet(conv.fin(false, 300, T0 + 12n, 500));
    d.packet(conv.fin(true, 500, T0 + 13n, 301));
    const rec = an.flows[0]!;
    expect(rec.events.map((e) => `${e.type}:${e.dir}:${e.len}`)).toEqual(['data:c2s:500', 'data:s2c:300', 'end:s2c:0', 'end:c2s:0']);
    const markers = msgs.filter((m) => m.protocol === 'tcp').map((m) => `${m.kind}:${'dir' in m ? m.dir : ''}:${m.ts - T0}`);
    expect(markers).toEqual(['syn:c2s:0', 'syn-ack:s2c:1', 'fin:s2c:12', 'fin:c2s:13']);
  });

  it('RST ends both directions and declares what was missing', () => {
    const { d, an, msgs } = setup();
    const conv = new Conversation();
    for (const p of conv.handshake(T0)) d.packet(p);
    d.packet(conv.data(true, 100, stream.subarray(100, 200), T0 + 10n));
    d.packet(conv.rst(false, 0, T0 + 11n));
    const rec = an.flows[0]!;
    expect(rec.events.map((e) => `${e.type}:${e.dir}:${e.len}`)).toEqual(['gap:c2s:100', 'data:c2s:100', 'end:c2s:0', 'end:s2c:0']);
    expect(msgs.filter((m) => m.protocol === 'tcp' && m.kind === 'rst')).toHaveLength(1);
  });
});
