import { describe, expect, it } from 'vitest';
import { PS_PER_MS, PS_PER_S } from '../../src/core/time.js';
import { groupTableMarkdown } from '../../src/stats/format-markdown.js';
import { metricValue } from '../../src/stats/metrics.js';
import type { MigrationRecord } from '../../src/stats/record.js';
import { SeriesAccumulator } from '../../src/stats/series.js';

function kvmRecord(id: string, transferMs: bigint, uncertain?: string): MigrationRecord {
  const t0 = 1_700_000_000n * PS_PER_S;
  const transfer = uncertain === undefined
    ? { start: t0 + 10n * PS_PER_MS, end: t0 + (10n + transferMs) * PS_PER_MS }
    : { start: t0 + 10n * PS_PER_MS, end: t0 + (10n + transferMs) * PS_PER_MS, uncertain };
  return {
    origin: 'x.ndjson', id, scenario: 'kvm', labels: {}, outcome: 'completed',
    phases: { 'remote-connect': { start: t0, end: t0 + 7n * PS_PER_MS }, transfer },
    libvirtTotal: 3n * PS_PER_S,
  };
}

describe('phases with a lost marker', () => {
  it('are left out of the statistics and counted, not averaged in as if measured', () => {
    const acc = new SeriesAccumulator({ by: [] });
    acc.add(kvmRecord('m1', 2000n));
    acc.add(kvmRecord('m2', 2200n));
    acc.add(kvmRecord('m3', 9000n, 'transfer FIN lost: end is the next marker'));
    const [group] = acc.finish().groups;
    // transfer: (2.000 + 2.200) / 2 = 2.100 s over the two measured runs
    expect(group!.metrics.transfer.n).toBe(2);
    expect(group!.metrics.transfer.mean).toBeCloseTo(2.1, 12);
    expect(group!.metrics.transfer.uncertain).toBe(1);
    expect(group!.metrics['remote-connect'].n).toBe(3);
    // KVM: the total migration time is the libvirt time (study Table 5.1)
    expect(group!.metrics.total.mean).toBe(3);
    expect(groupTableMarkdown(group!)).toContain('| Transfer (1 uncertain excluded) | 2 | 2.1000 |');
    expect(metricValue(kvmRecord('m4', 1n, 'lost'), 'transfer')).toBe('uncertain');
  });
});
