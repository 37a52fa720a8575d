/**
 * auto-converge's throttle from libvirt job stats on the captured link: a management
 * client polling virDomainGetJobStats (DOMAIN_GET_JOB_STATS) on the source host. The
 * reply's auto_converge_throttle goes to the migration of the domain the call named.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/decode/types.js';
import type { Progress } from '../../src/phases/events.js';
import { kvmMigration, Trace } from './messages.js';
import { ended, runEngine } from './run.js';

const UUID = '11111111-2222-3333-4444-555555555555';
const MGMT: Endpoint = { ip: '10.0.0.9', port: 45000 };
const SRC_LIBVIRTD: Endpoint = { ip: '10.0.0.1', port: 16509 };

function polled(throttles: [number, number][], uuid = UUID): Trace {
  const tr = new Trace();
  kvmMigration(tr, { uuid: UUID });
  const f = tr.flow();
  throttles.forEach(([t, value], i) => {
    tr.libvirt(t, f, 'call', MGMT, SRC_LIBVIRTD, 'DOMAIN_GET_JOB_STATS', 282, 100 + i, { migration: { domainUuid: uuid } });
    tr.libvirt(t + 300, f, 'reply', MGMT, SRC_LIBVIRTD, 'DOMAIN_GET_JOB_STATS', 282, 100 + i, { migration: { autoConvergeThrottle: value } });
  });
  return tr;
}

describe('phase engine: auto-converge throttle from libvirt job stats on the link', () => {
  it('progress carries the last throttle seen; migration-ended its last, highest and count', () => {
    const { events } = runEngine(polled([[700_000, 0], [1_000_000, 20], [1_400_000, 30]]).sorted());
    const progress = events.filter((e): e is Progress => e.type === 'progress');
    expect(progress.filter((p) => p.ts < 700_300n + 1_764_000_000n * 1_000_000_000_000n).every((p) => p.throttle === undefined)).toBe(true);
    expect(progress.at(-1)!.throttle).toBe(30);
    expect(new Set(progress.map((p) => p.throttle).filter((v) => v !== undefined))).toEqual(new Set([0, 20, 30]));
    const e = ended(events, 'm1')!;
    expect(e.stream?.cpuThrottle).toEqual({ last: 30, max: 30, samples: 3 });
  });

  it('job stats of another domain, or with no throttle, change nothing', () => {
    const { events } = runEngine(polled([[700_000, 40]], '99999999-2222-3333-4444-555555555555').sorted());
    expect(ended(events, 'm1')!.stream?.cpuThrottle).toBeUndefined();
    expect(events.some((e) => e.type === 'progress' && e.throttle !== undefined)).toBe(false);
  });
});
