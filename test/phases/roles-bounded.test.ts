import { describe, expect, it } from 'vitest';
import { MAX_HOSTS_PER_ROLE } from '../../src/phases/roles.js';
import { kvmMigration, Trace } from './messages.js';
import { runEngine } from './run.js';

describe('host roles stay bounded (a sender chooses its addresses)', () => {
  it('lists the first MAX_HOSTS_PER_ROLE ping clients and counts the other sightings; the migration is unaffected', () => {
    const clean = new Trace();
    kvmMigration(clean, { pingVm: '10.0.0.50' });
    const truth = runEngine(clean.sorted());

    const tr = new Trace();
    kvmMigration(tr, { pingVm: '10.0.0.50' });
    // 5 000 spoofed pingers, each twice (a host past the limit is counted at each sighting).
    const spoofers = 5_000;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < spoofers; i++) {
        tr.icmp(3_500_000 + round * 100_000 + i, 'echo-request', `172.16.${i >> 8}.${i & 255}`, '10.0.0.99', 0, 40_000 + i);
      }
    }
    const { events, summary } = runEngine(tr.sorted());
    // The ping tracker sheds streams past its own limit (counted, tested in downtime tests);
    // everything else is what the clean trace gives.
    const shed = (e: (typeof events)[number]): boolean => e.type === 'anomaly' && e.code === 'PHASES_PING_STREAM_SHED';
    expect(events.filter((e) => !shed(e))).toEqual(truth.events);
    expect(events.some(shed)).toBe(true);
    const listed = summary.roles.pingClients;
    expect(listed).toHaveLength(MAX_HOSTS_PER_ROLE);
    // The migration's own pinger came first, so it is listed.
    expect(listed[0]).toBe('10.0.0.9');
    // 1 real + 5 000 spoofed distinct clients: 255 spoofers listed, 4 745 not, each seen twice.
    expect(summary.roles.unlistedSightings).toBe((spoofers - (MAX_HOSTS_PER_ROLE - 1)) * 2);
    expect(truth.summary.roles.unlistedSightings).toBeUndefined();
  });
});
