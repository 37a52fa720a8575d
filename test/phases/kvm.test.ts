import { describe, expect, it } from 'vitest';
import { dur, kvmMigration, pings, Trace, us } from './messages.js';
import { ended, phaseEnded, runEngine } from './run.js';

describe('phase engine: KVM p2p migration', () => {
  it('measures every phase, the totals, the stream and the downtime exactly', () => {
    const tr = new Trace();
    kvmMigration(tr, { pingVm: '10.0.0.50' });
    const { events, summary } = runEngine(tr.sorted());
    const started = events.find((e) => e.type === 'migration-started');
    expect(started).toMatchObject({ migration: 'm1', ts: us(0), scenario: 'kvm', source: '10.0.0.1', destination: '10.0.0.2', domain: 'instance-00000001' });
    const expected = {
      'remote-connect': [0, 6800], preparation: [10000, 600000], transfer: [601000, 2569000],
      finish: [2570000, 2642000], cleanup: [2642000, 2997000],
    } as const;
    for (const [phase, [s, e]] of Object.entries(expected)) {
      const ev = phaseEnded(events, 'm1', phase as keyof typeof expected);
      expect(ev, phase).toBeDefined();
      expect(ev!.ts).toBe(us(e));
      expect(ev!.duration).toBe(dur(e - s));
      expect(ev!.uncertain).toBeUndefined();
    }
    const end = ended(events, 'm1')!;
    expect(end.outcome).toBe('completed');
    expect(end.libvirtTotal).toBe(dur(2997000));
    expect(end.total).toBe(dur(2997000));
    expect(end.downtime).toBe(dur(21000));
    // The pause as the stream shows it: switch-over → EOF; the VM stopped after the last
    // pre-copy chunk (1.952 s), so up to 48 ms earlier.
    expect(end.stream).toEqual({
      bytes: 28_000_008 + 500_000, iterations: 3, precopyBytes: 28_000_008, stopCopyBytes: 500_000,
      pause: { start: us(2000000), end: us(2100000), min: dur(100000), max: dur(148000) },
    });
    expect(end.phases.transfer).toEqual({ start: us(601000), end: us(2569000) });
    const down = events.find((e) => e.type === 'downtime');
    expect(down).toMatchObject({ migration: 'm1', duration: dur(21000), lost: 20, lostDuration: dur(20000), ts: us(2015100) });
    const sw = events.find((e) => e.type === 'switchover');
    expect(sw).toMatchObject({ ts: us(2000000), iterations: 3, precopyBytes: 28_000_008 });
    expect(summary.migrations).toHaveLength(1);
    expect(summary.roles.pingClients).toEqual(['10.0.0.9']);
  });

  it('rate-limits progress to >= 100 ms of wire time, plus one event per pass', () => {
    const tr = new Trace();
    kvmMigration(tr);
    const { events } = runEngine(tr.sorted());
    const progress = events.filter((e) => e.type === 'progress');
    // pass 1: 20 chunks 50 ms apart → every other chunk (10); passes 2, 3: 4 chunks → 2 each.
    expect(progress.map((p) => p.iteration)).toEqual([...Array(10).fill(1), 2, 2, 3, 3]);
    for (let i = 1; i < progress.length; i++) {
      const gap = progress[i]!.ts - progress[i - 1]!.ts;
      expect(gap >= dur(100000) || progress[i]!.iteration !== progress[i - 1]!.iteration).toBe(true);
    }
    const p2 = progress[1]!;
    expect(p2.type === 'progress' && p2.rate).toBeCloseTo(2_000_000 / 0.1, 3);
  });

  it('emits each event while its marker message is being pushed (liveness)', () => {
    const tr = new Trace();
    kvmMigration(tr, { pingVm: '10.0.0.50' });
    const msgs = tr.sorted();
    // With the pair known (--hosts), recognition happens at the SYN: everything is live.
    const { events, emittedAt } = runEngine(msgs, { hosts: { source: '10.0.0.1', destination: '10.0.0.2' } });
    expect(events.length).toBeGreaterThan(10);
    events.forEach((ev, i) => {
      const at = emittedAt[i]!;
      expect(at, `${ev.type} emitted at end of input`).toBeGreaterThanOrEqual(0);
      expect(msgs[at]!.ts, `${ev.type} ${'phase' in ev ? ev.phase : ''}`).toBe(ev.type === 'migration-started' ? us(0) : ev.ts);
    });
  });

  it('without --hosts, recognition waits at most until prepare3; later events are live', () => {
    const tr = new Trace();
    kvmMigration(tr);
    const msgs = tr.sorted();
    const { events, emittedAt } = runEngine(msgs);
    const prepIdx = msgs.findIndex((m) => m.protocol === 'libvirt' && m.procedure === 303);
    events.forEach((ev, i) => {
      const at = emittedAt[i]!;
      if (ev.ts <= msgs[prepIdx]!.ts) expect(at).toBe(prepIdx);
      else expect(msgs[at]!.ts).toBe(ev.ts);
    });
    expect(events[0]).toMatchObject({ type: 'migration-started', ts: us(0) });
  });

  it('a second migration between a known pair is live from its SYN', () => {
    const tr = new Trace();
    kvmMigration(tr);
    kvmMigration(tr, { at: 5_000_000, srcPort: 41000 });
    const msgs = tr.sorted();
    const { events, emittedAt } = runEngine(msgs);
    const i = events.findIndex((e) => e.type === 'migration-started' && e.migration === 'm2');
    expect(msgs[emittedAt[i]!]!.ts).toBe(us(5_000_000));
    expect(ended(events, 'm2')!.libvirtTotal).toBe(dur(2997000));
  });

  it('overlapping migrations between different hosts stay apart', () => {
    const tr = new Trace();
    kvmMigration(tr, { pingVm: '10.0.0.50' });
    kvmMigration(tr, { at: 300_000, source: '10.0.0.3', destination: '10.0.0.4', domain: 'instance-00000002', srcPort: 42000 });
    pings(tr, '10.0.0.51', 2_000_000, 2_500_000, 2_295_000, 2_303_000, 8);
    const { events, summary } = runEngine(tr.sorted());
    expect(summary.migrations.map((m) => [m.source, m.domain, m.ended.outcome])).toEqual([
      ['10.0.0.1', 'instance-00000001', 'completed'], ['10.0.0.3', 'instance-00000002', 'completed']]);
    const m2 = summary.migrations[1]!.id;
    expect(phaseEnded(events, m2, 'transfer')!.duration).toBe(dur(2569000 - 601000));
    expect(ended(events, 'm1')!.downtime).toBe(dur(21000));
    expect(ended(events, m2)!.downtime).toBe(dur(2303100 - 2294100));
  });

  it('a prepare3 error reply fails the migration with a partial timeline', () => {
    const tr = new Trace();
    kvmMigration(tr, { failPrepare: true });
    const { events } = runEngine(tr.sorted());
    const end = ended(events, 'm1')!;
    expect(end.outcome).toBe('failed');
    expect(end.reason).toMatch(/prepare3 failed: unsupported configuration/);
    expect(end.phases.preparation).toEqual({ start: us(10000), end: us(600000) });
    expect(end.phases.transfer).toBeUndefined();
    // The source cleans up from the error reply until it closes the connection.
    expect(end.phases.cleanup).toEqual({ start: us(600000), end: us(700000) });
    expect(end.libvirtTotal).toBe(dur(700000));
    expect(end.ts).toBe(us(700000));
  });

  it('an RST on the migration stream fails it; transfer ends at the RST', () => {
    const tr = new Trace();
    kvmMigration(tr, { streamEnd: 'rst' });
    const { events } = runEngine(tr.sorted());
    const end = ended(events, 'm1')!;
    expect(end.outcome).toBe('failed');
    expect(end.reason).toMatch(/RST/);
    expect(end.phases.transfer).toEqual({ start: us(601000), end: us(2100000) });
    expect(end.phases.finish).toEqual({ start: us(2200000), end: us(2250000) });
  });

  it('a stream closed without QEMU_VM_EOF is a cancelled migration', () => {
    const tr = new Trace();
    kvmMigration(tr, { streamEnd: 'fin-no-eof' });
    const { events } = runEngine(tr.sorted());
    const end = ended(events, 'm1')!;
    expect(end.outcome).toBe('cancelled');
    expect(end.reason).toMatch(/QEMU_VM_EOF/);
    // What the stream got through before it closed (the decoder's cut summary).
    expect(end.stream).toEqual({ bytes: 28_000_008, iterations: 4, precopyBytes: 28_000_008, stopCopyBytes: 0 });
  });

  it('a lost prepare3 reply makes preparation uncertain, bounded by the transfer SYN', () => {
    const tr = new Trace();
    kvmMigration(tr, { omit: new Set(['prepare-reply']) });
    const { events } = runEngine(tr.sorted());
    const prep = phaseEnded(events, 'm1', 'preparation')!;
    expect(prep.ts).toBe(us(601000));
    expect(prep.duration).toBe(dur(591000));
    expect(prep.uncertain).toMatch(/not captured/);
    // The stream port was not learnt from the reply: the QEMU flow is found by its hosts.
    expect(phaseEnded(events, 'm1', 'transfer')!.duration).toBe(dur(2569000 - 601000));
  });

  it('a lost stream FIN ends transfer at the finish3 call, as an upper bound', () => {
    const tr = new Trace();
    kvmMigration(tr, { omit: new Set(['stream-fin']) });
    const { events } = runEngine(tr.sorted());
    const transfer = phaseEnded(events, 'm1', 'transfer')!;
    expect(transfer.duration).toBe(dur(2570000 - 601000));
    expect(transfer.uncertain).toMatch(/upper bound/);
    expect(ended(events, 'm1')!.outcome).toBe('completed');
  });

  it('lost finish3 call and reply: finish is reported as a bound, never dropped', () => {
    const tr = new Trace();
    kvmMigration(tr, { omit: new Set(['finish-call', 'finish-reply']) });
    const { events } = runEngine(tr.sorted());
    const end = ended(events, 'm1')!;
    expect(end.phases.finish?.uncertain).toBeDefined();
    expect(end.phases.finish!.start).toBe(us(2569000));
    expect(end.phases.cleanup?.uncertain).toBeDefined();
  });

  it('a lost libvirt SYN starts remote-connect at the SYN-ACK, flagged', () => {
    const tr = new Trace();
    kvmMigration(tr, { omit: new Set(['syn']) });
    const { events } = runEngine(tr.sorted());
    const rc = phaseEnded(events, 'm1', 'remote-connect')!;
    expect(rc.duration).toBe(dur(6700));
    expect(rc.uncertain).toMatch(/SYN-ACK/);
  });

  it('end of input mid-transfer: outcome incomplete, open phases named', () => {
    const tr = new Trace();
    kvmMigration(tr);
    const msgs = tr.sorted().filter((m) => m.ts < us(1_000_000));
    const { events, summary } = runEngine(msgs);
    const end = ended(events, 'm1')!;
    expect(end.outcome).toBe('incomplete');
    expect(end.reason).toMatch(/transfer/);
    expect(summary.migrations[0]!.ended.outcome).toBe('incomplete');
  });

  it('a libvirt connection without any migration procedure is not a migration', () => {
    const tr = new Trace();
    const f = tr.flow();
    const c = { ip: '10.0.0.1', port: 45000 };
    const s = { ip: '10.0.0.2', port: 16509 };
    tr.tcp(0, f, 'syn', c, s).libvirt(100, f, 'call', c, s, 'CONNECT_OPEN', 1, 1)
      .libvirt(200, f, 'reply', c, s, 'CONNECT_OPEN', 1, 1).tcp(300, f, 'fin', c, s);
    const { events, summary } = runEngine(tr.sorted());
    expect(events).toEqual([]);
    expect(summary.migrations).toEqual([]);
  });

  it('folds repeated anomalies but keeps every count', () => {
    const tr = new Trace();
    for (let i = 0; i < 50; i++) tr.anomaly(i * 10_000, 99, 'malformed-packet', 2);
    const { events, summary } = runEngine(tr.sorted());
    const anomalies = events.filter((e) => e.type === 'anomaly');
    expect(anomalies.length).toBeLessThan(10);
    expect(anomalies.reduce((n, e) => n + (e.type === 'anomaly' ? e.count : 0), 0)).toBe(100);
    expect(summary.anomalies['malformed-packet']).toBe(100);
  });

  it('keeps every anomaly code: one kind with several codes folds per code, with the fields of lone occurrences', () => {
    const tr = new Trace();
    tr.anomaly(0, 5, 'protocol-error', 1, 'LIBVIRT_BAD_LENGTH', { length: 12 })
      .anomaly(10, 6, 'protocol-error', 1, 'HTTP_BAD_CHUNK_SIZE')
      .anomaly(20, 5, 'protocol-error', 1, 'LIBVIRT_BAD_LENGTH', { length: 99 })
      .anomaly(30, 5, 'protocol-error', 1, 'LIBVIRT_BAD_LENGTH', { length: 7 })
      .anomaly(40, 7, 'protocol-error', 1, 'QEMU_BAD_MAGIC', { magic: 1 });
    const { events, summary } = runEngine(tr.sorted());
    const anomalies = events.flatMap((e) => e.type === 'anomaly' ? [{ code: e.code, count: e.count, fields: e.fields }] : []);
    expect(anomalies).toEqual([
      { code: 'LIBVIRT_BAD_LENGTH', count: 1, fields: { length: 12 } },
      { code: 'HTTP_BAD_CHUNK_SIZE', count: 1, fields: undefined },
      { code: 'QEMU_BAD_MAGIC', count: 1, fields: { magic: 1 } },
      // two folded repeats: their lengths differ, so the event carries none
      { code: 'LIBVIRT_BAD_LENGTH', count: 2, fields: undefined },
    ]);
    expect(summary.anomalies).toEqual({ 'protocol-error': 5 });
    expect(summary.anomalyCodes).toEqual({ LIBVIRT_BAD_LENGTH: 3, HTTP_BAD_CHUNK_SIZE: 1, QEMU_BAD_MAGIC: 1 });
  });
});
