/**
 * The downtime tracker on hostile echo traffic: a sender picks the ICMP identifier and
 * sequence freely, so neither a new identifier per packet nor a mass of unanswered
 * requests may grow the tracker or make a reply cost more than O(1) amortised — and the
 * migrating VM's real downtime must still be found exactly.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PING_STREAMS, MAX_UNANSWERED, UnansweredRequests } from '../../src/phases/downtime.js';
import type { Anomaly } from '../../src/protocols/types.js';
import { dur, kvmMigration, Trace, us } from './messages.js';
import { ended, runEngine } from './run.js';

describe('downtime tracker bounds', () => {
  it('a flood of echo requests with a new identifier each: streams capped, shed counted, the real downtime still exact', () => {
    const tr = new Trace();
    const flood = 20_000;
    // Before the migration: one request per identifier (and per target) from one sender.
    for (let i = 0; i < flood; i++) tr.icmp(-600_000 + i, 'echo-request', '10.6.6.6', `10.7.${(i >> 8) & 255}.${i & 255}`, 0, i & 0xffff);
    kvmMigration(tr, { pingVm: '10.0.0.50' });
    const { events } = runEngine(tr.sorted());
    const end = ended(events, 'm1')!;
    expect(end.downtime).toBe(dur(21000));
    expect(events.find((e) => e.type === 'downtime')).toMatchObject({ duration: dur(21000), lost: 20, ts: us(2015100) });
    // flood + the VM's stream were made; all but MAX_PING_STREAMS of them forgotten.
    const shed = events.filter((e): e is Anomaly & { type: 'anomaly' } => e.type === 'anomaly' && (e as unknown as Anomaly).code === 'PHASES_PING_STREAM_SHED');
    expect(shed.reduce((n, e) => n + (e as unknown as Anomaly).count, 0)).toBe(flood + 1 - MAX_PING_STREAMS);
  });

  it('unanswered requests: answered in order, older ones counted lost, capped below the sequence space', () => {
    const u = new UnansweredRequests();
    for (let seq = 1; seq <= 10; seq++) u.push(seq);
    expect(u.answer(5)).toBe(4);
    expect(u.answer(5)).toBe(0); // already answered
    expect(u.answer(99)).toBe(0); // never asked
    expect(u.answer(10)).toBe(4); // 6..9 lost
    expect(u.size).toBe(0);
    // 100 000 requests (the 16-bit sequence wraps): only the newest MAX_UNANSWERED are kept.
    for (let i = 0; i < 100_000; i++) u.push(i & 0xffff);
    expect(u.size).toBe(MAX_UNANSWERED);
    expect(u.answer(99_999 & 0xffff)).toBe(MAX_UNANSWERED - 1);
    expect(u.size).toBe(0);
    // Replies to numbers never asked cost nothing and change nothing.
    for (let i = 0; i < 1000; i++) u.push(i);
    for (let i = 1000; i < 60_000; i++) expect(u.answer(i)).toBe(0);
    expect(u.size).toBe(1000);
    expect(u.answer(0)).toBe(0);
    expect(u.answer(999)).toBe(998);
  });
});
