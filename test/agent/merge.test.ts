import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aggregation, type AggregatorEvent } from '../../src/agent/aggregate.js';
import { MeasurementPoint } from '../../src/agent/measurement-point.js';
import type { MpRecord } from '../../src/agent/records.js';
import { openCapture } from '../../src/ingest/file-source.js';
import { tempDir } from '../phases/generated.js';
import { expectTruthPhases, makeTwoMpTrace, type TwoMpTrace } from './shared-trace.js';

async function recordsOf(path: string, mp: string): Promise<MpRecord[]> {
  const out: MpRecord[] = [];
  const m = new MeasurementPoint(mp, (r) => out.push(r));
  const f = await openCapture(path);
  for await (const batch of f.batches()) {
    for (const p of batch) m.packet(p);
    m.heartbeat();
  }
  await f.close();
  m.finish();
  return out;
}

describe('merge of MP records (no NATS): order, duplicates, silent MPs', () => {
  const { dir, cleanup } = tempDir();
  let fx: TwoMpTrace;
  let a: MpRecord[] = [];
  let b: MpRecord[] = [];
  beforeAll(async () => {
    fx = await makeTwoMpTrace(dir);
    a = await recordsOf(fx.a, 'src');
    b = await recordsOf(fx.b, 'dst');
  });
  afterAll(cleanup);

  it('records out of order and twice (redeliveries): restored by seq, counted, same phases', () => {
    const events: AggregatorEvent[] = [];
    const agg = new Aggregation({ onEvent: (e) => events.push(e), expect: ['src', 'dst'], correctClocks: true });
    // B's records in blocks of 50 reversed, every 7th sent twice; A in order.
    const shuffled: MpRecord[] = [];
    for (let i = 0; i < b.length; i += 50) shuffled.push(...b.slice(i, i + 50).reverse());
    let ia = 0;
    for (let i = 0; i < shuffled.length; i++) {
      agg.record(shuffled[i]!);
      if (i % 7 === 0) agg.record(shuffled[i]!);
      for (let k = 0; k < 8 && ia < a.length; k++) agg.record(a[ia++]!);
    }
    while (ia < a.length) agg.record(a[ia++]!);
    const s = agg.finish();
    expect(s.merge.duplicateRecords).toBe(Math.ceil(shuffled.length / 7));
    expect(s.merge.lostRecords).toBe(0);
    expect(s.messages).toBe(fx.truthMessages);
    expectTruthPhases(fx.truth, events);
  });

  it('an MP gone silent stops holding back the others; back again, its messages still count once', () => {
    let delivered = 0;
    const events: AggregatorEvent[] = [];
    const agg = new Aggregation({ onEvent: (e) => events.push(e), onMessage: () => { delivered++; }, expect: ['src', 'dst'] });
    const half = Math.floor(b.length / 2);
    for (const r of b.slice(0, half)) agg.record(r);
    for (const r of a) agg.record(r);
    const held = delivered;
    const aMessages = a.filter((r) => r.t === 'msg').length;
    // B's watermark holds A's later messages back.
    expect(held).toBeLessThan(aMessages);
    agg.silent('dst');
    expect(events.some((e) => e.type === 'mp-status' && e.mp === 'dst' && e.status === 'silent')).toBe(true);
    expect(delivered).toBeGreaterThan(held);
    for (const r of b.slice(half)) agg.record(r);
    const s = agg.finish();
    expect(s.messages).toBe(fx.truthMessages);
    expect(s.merge.lostRecords).toBe(0);
  });

  it('a gap that never fills is given up after the reorder bound, counted as lost', () => {
    const agg = new Aggregation({ onEvent: () => undefined, maxReorder: 100 });
    for (const r of a) if (r.seq !== 10 && r.seq !== 11) agg.record(r);
    const s = agg.finish();
    expect(s.merge.lostRecords).toBe(2);
  });
});
