import { describe, expect, it } from 'vitest';
import type { PhaseName } from '../../src/phases/events.js';
import { dur, kvmMigration, Trace, us } from './messages.js';
import { ended, phaseEnded, runEngine } from './run.js';

const S = '10.0.0.11';
const D = '10.0.0.12';
const C = '10.0.0.10';
const ep = (ip: string, port: number) => ({ ip, port });

/**
 * An OpenStack live migration as nova drives it from the source compute (µs offsets
 * from `a`): authentication 400–140820, initialization 150000–1673170, the KVM part
 * from 1700000 (kvmMigration's timeline), post-migration 4800000–5471900.
 */
function openstackMigration(tr: Trace, o: { a?: number; uuid?: string; n?: number; failPrepare?: boolean; amqpFlow?: number; pingVm?: string } = {}): void {
  const a = o.a ?? 0;
  const n = o.n ?? 0;
  const uuid = o.uuid ?? '11111111-2222-3333-4444-555555555555';
  const kc = ep(S, 50000 + n * 10);
  const ks = ep(C, 5000);
  const kf = tr.flow();
  tr.tcp(a, kf, 'syn', kc, ks);
  tr.http(a + 400, kf, kc, ks, { method: 'POST', path: '/v3/auth/tokens' });
  tr.httpResponse(a + 140820, kf, kc, ks, 201);
  const nc = ep(S, 50001 + n * 10);
  const ns = ep(C, 8774);
  const nf = tr.flow();
  tr.tcp(a + 149000, nf, 'syn', nc, ns);
  tr.http(a + 150000, nf, nc, ns, { method: 'GET', path: `/v2.1/servers/${uuid}` });
  tr.httpResponse(a + 195000, nf, nc, ns, 200);
  tr.http(a + 210000, nf, nc, ns, { method: 'POST', path: `/v2.1/servers/${uuid}/action`, jsonKeys: ['os-migrateLive'] });
  tr.httpResponse(a + 320000, nf, nc, ns, 202);
  const af = o.amqpFlow ?? tr.flow();
  const ac = ep(S, 50002);
  const as = ep(C, 5672);
  tr.amqp(a + 750000, af, 'deliver', as, ac, { method: 'check_can_live_migrate_source', isCall: true, msgId: `chk${n}`, instanceUuid: uuid });
  tr.amqp(a + 780000, af, 'publish', ac, as, { isReply: true, msgId: `chk${n}`, ending: true });
  tr.amqp(a + 1200000, af, 'deliver', as, ac, { method: 'live_migration', instanceUuid: uuid });
  tr.amqp(a + 1300000, af, 'publish', ac, as, { method: 'pre_live_migration', isCall: true, msgId: `pre${n}`, instanceUuid: uuid });
  tr.amqp(a + 1673170, af, 'deliver', as, ac, { isReply: true, msgId: `pre${n}`, ending: true, hasResult: true });
  kvmMigration(tr, { at: a + 1700000, source: S, destination: D, srcPort: 40000 + n * 10, streamPort: 49152 + n, failPrepare: o.failPrepare ?? false,
    domain: `instance-0000000${n + 1}`, uuid, ...(o.pingVm ? { pingVm: o.pingVm } : {}) });
  if (o.failPrepare) {
    tr.amqp(a + 2500000, af, 'publish', ac, as, { method: 'rollback_live_migration_at_destination', instanceUuid: uuid });
    return;
  }
  tr.amqp(a + 4800000, af, 'publish', ac, as, { method: 'post_live_migration_at_destination', isCall: true, msgId: `post${n}`, instanceUuid: uuid });
  tr.amqp(a + 5471900, af, 'deliver', as, ac, { isReply: true, msgId: `post${n}`, ending: true });
}

const EXPECTED: [PhaseName, number, number][] = [
  ['authentication', 400, 140820], ['initialization', 150000, 1673170],
  ['remote-connect', 1700000, 1706800], ['preparation', 1710000, 2300000], ['transfer', 2301000, 4269000],
  ['finish', 4270000, 4342000], ['cleanup', 4342000, 4697000], ['post-migration', 4800000, 5471900],
];

describe('phase engine: OpenStack migration', () => {
  it('measures the OpenStack and libvirt phases and the total exactly', () => {
    const tr = new Trace();
    openstackMigration(tr, { pingVm: '10.0.0.50' });
    const { events, summary } = runEngine(tr.sorted());
    expect(events[0]).toMatchObject({ type: 'migration-started', scenario: 'openstack', source: S, destination: D, ts: us(400) });
    for (const [phase, s, e] of EXPECTED) {
      const ev = phaseEnded(events, 'm1', phase);
      expect(ev, phase).toBeDefined();
      expect(ev!.duration, phase).toBe(dur(e - s));
      expect(ev!.ts, phase).toBe(us(e));
      expect(ev!.uncertain, phase).toBeUndefined();
    }
    const end = ended(events, 'm1')!;
    expect(end.outcome).toBe('completed');
    expect(end.total).toBe(dur(5471900 - 400));
    expect(end.libvirtTotal).toBe(dur(2997000));
    expect(end.downtime).toBe(dur(21000));
    expect(summary.roles.controllers).toEqual([C]);
    expect(summary.migrations[0]!.domainUuid).toBe('11111111-2222-3333-4444-555555555555');
  });

  it('is live with --hosts: every event leaves while its marker is pushed', () => {
    const tr = new Trace();
    openstackMigration(tr);
    const msgs = tr.sorted();
    const { events, emittedAt } = runEngine(msgs, { hosts: { source: S, destination: D } });
    const post = msgs.findIndex((m) => m.protocol === 'http' && m.kind === 'request' && m.method === 'POST' && m.path.endsWith('/action'));
    events.forEach((ev, i) => {
      const at = emittedAt[i]!;
      expect(at).toBeGreaterThanOrEqual(0);
      // Authentication and the initialization start are only known to belong to a
      // migration once os-migrateLive is posted: they leave with that request.
      if (ev.ts < msgs[post]!.ts) expect(at, `${ev.type}`).toBe(post);
      else expect(msgs[at]!.ts, `${ev.type} ${'phase' in ev ? ev.phase : ''}`).toBe(ev.ts);
    });
  });

  it('without --hosts it is announced at the libvirt SYN (destination known), then live', () => {
    const tr = new Trace();
    openstackMigration(tr);
    const msgs = tr.sorted();
    const { events, emittedAt } = runEngine(msgs);
    const syn = msgs.findIndex((m) => m.protocol === 'tcp' && m.kind === 'syn' && m.dst.port === 16509);
    expect(msgs[emittedAt[0]!]!.ts).toBe(us(1700000));
    events.forEach((ev, i) => {
      if (ev.ts <= msgs[syn]!.ts) expect(emittedAt[i]).toBe(syn);
      else expect(msgs[emittedAt[i]!]!.ts).toBe(ev.ts);
    });
  });

  it('overlapping migrations on one AMQP session are told apart by uuid and msg id', () => {
    const tr = new Trace();
    const af = tr.flow();
    openstackMigration(tr, { amqpFlow: af, n: 0, uuid: 'aaaaaaaa-0000-0000-0000-000000000001' });
    openstackMigration(tr, { amqpFlow: af, n: 1, a: 900_000, uuid: 'bbbbbbbb-0000-0000-0000-000000000002' });
    const { events, summary } = runEngine(tr.sorted());
    expect(summary.migrations).toHaveLength(2);
    for (const rec of summary.migrations) {
      expect(rec.ended.outcome).toBe('completed');
      expect(rec.ended.total).toBe(dur(5471900 - 400));
      for (const [phase, s, e] of EXPECTED) expect(phaseEnded(events, rec.id, phase)!.duration, `${rec.id} ${phase}`).toBe(dur(e - s));
    }
    expect(summary.migrations.map((m) => m.domain).sort()).toEqual(['instance-00000001', 'instance-00000002']);
    expect(summary.migrations.map((m) => m.domainUuid).sort()).toEqual(['aaaaaaaa-0000-0000-0000-000000000001', 'bbbbbbbb-0000-0000-0000-000000000002']);
  });

  it('failed prepare3 then nova rollback: failed, partial timeline, closed at the rollback', () => {
    const tr = new Trace();
    openstackMigration(tr, { failPrepare: true });
    const { events } = runEngine(tr.sorted());
    const end = ended(events, 'm1')!;
    expect(end.outcome).toBe('failed');
    expect(end.reason).toMatch(/prepare3 failed/);
    expect(end.ts).toBe(us(2500000));
    expect(Object.keys(end.phases)).toEqual(['authentication', 'initialization', 'remote-connect', 'preparation', 'cleanup']);
    expect(end.total).toBe(dur(1700000 + 700000 - 400));
  });

  it('a lost pre_live_migration reply: initialization bounded by the libvirt SYN', () => {
    const tr = new Trace();
    openstackMigration(tr);
    const msgs = tr.sorted().filter((m) => !(m.protocol === 'amqp' && m.oslo?.msgId === 'pre0' && m.kind === 'deliver'));
    const { events } = runEngine(msgs);
    const init = phaseEnded(events, 'm1', 'initialization')!;
    expect(init.duration).toBe(dur(1700000 - 150000));
    expect(init.uncertain).toMatch(/upper bound/);
  });

  it('no HTTP captured: initialization starts at pre_live_migration, flagged', () => {
    const tr = new Trace();
    openstackMigration(tr);
    const msgs = tr.sorted().filter((m) => m.protocol !== 'http');
    const { events } = runEngine(msgs);
    const init = phaseEnded(events, 'm1', 'initialization')!;
    expect(init.duration).toBe(dur(1673170 - 1300000));
    expect(init.uncertain).toMatch(/lower bound/);
    expect(ended(events, 'm1')!.total).toBe(dur(5471900 - 1300000));
  });
});
