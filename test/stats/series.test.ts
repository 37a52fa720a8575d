import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { command as statsCommand, loadSeries } from '../../src/cli/commands/stats.js';
import { PS_PER_S, PS_PER_US, toSeconds, type Picos } from '../../src/core/time.js';
import type { PhaseName } from '../../src/phases/events.js';
import { seriesCsv } from '../../src/stats/format-csv.js';
import type { SeriesSummary } from '../../src/stats/series.js';
import { phaseShares } from '../../src/stats/shares.js';
import { exactMeanSeconds, migrationEventLines, OPENSTACK_ORDER, synthesizeMigration, type SyntheticMigration } from './series-fixture.js';
import { seededRandom } from '../helpers/rng.js';

const FLAVORS = [1, 2, 3, 4];
const LOADS = [0, 25, 50, 75, 100];
const RUNS = 5;

const dir = mkdtempSync(join(tmpdir(), 'migscope-series-'));
const files: string[] = [];
const truthByCell = new Map<string, SyntheticMigration[]>();

beforeAll(() => {
  const rand = seededRandom(2016);
  let t: Picos = 1_700_000_000n * PS_PER_S;
  for (const flavor of FLAVORS) {
    for (const load of LOADS) {
      const cell: SyntheticMigration[] = [];
      const lines: string[] = [];
      for (let run = 1; run <= RUNS; run++) {
        const m = synthesizeMigration(`m${run}`, { flavor: String(flavor), load: String(load) }, flavor, load, rand, t);
        t += 60n * PS_PER_S;
        cell.push(m);
        lines.push(...migrationEventLines(m));
      }
      // One failed migration per cell: excluded by default, reported with its reason.
      const failed = synthesizeMigration('m99', { flavor: String(flavor), load: String(load) }, flavor, load, rand, t);
      failed.outcome = 'failed';
      lines.push(...migrationEventLines(failed).slice(0, -1),
        JSON.stringify({ type: 'migration-ended', migration: 'm99', ts: '1', outcome: 'failed', reason: 'prepare3 error', phases: {} }));
      truthByCell.set(`${flavor}/${load}`, cell);
      const file = join(dir, `flavor${flavor}-load${load}.ndjson`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      files.push(file);
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectedMean(cell: SyntheticMigration[], metric: PhaseName | 'total' | 'libvirt-total' | 'downtime'): number {
  if (metric === 'downtime') return exactMeanSeconds(cell.map((m) => m.downtime)) * 1e3;
  if (metric === 'total') return exactMeanSeconds(cell.map((m) => m.total));
  if (metric === 'libvirt-total') return exactMeanSeconds(cell.map((m) => m.libvirtTotal));
  return exactMeanSeconds(cell.map((m) => m.durations[metric]));
}

describe('a 20-cell series (flavor 1–4 × load 0–100, 5 runs each)', () => {
  let series: SeriesSummary;
  beforeAll(async () => {
    series = await loadSeries({ files, by: ['flavor', 'load'], includeFailed: false });
  });

  it('groups into 20 cells in flavor, then load order, 5 migrations each, failures excluded', () => {
    expect(series.groups.map((g) => `${g.key['flavor']}/${g.key['load']}`)).toEqual(
      FLAVORS.flatMap((f) => LOADS.map((l) => `${f}/${l}`)));
    expect(series.groups.every((g) => g.migrations === RUNS)).toBe(true);
    expect(series.included).toBe(100);
    expect(series.excluded).toEqual([{ reason: 'failed: prepare3 error', count: 20 }]);
  });

  it('recovers every sampled mean within 1 µs, and the SD of every phase', () => {
    const oneMicrosecond = toSeconds(PS_PER_US);
    for (const g of series.groups) {
      const cell = truthByCell.get(`${g.key['flavor']}/${g.key['load']}`)!;
      for (const metric of [...OPENSTACK_ORDER, 'total', 'libvirt-total'] as const) {
        expect(Math.abs(g.metrics[metric].mean - expectedMean(cell, metric))).toBeLessThan(oneMicrosecond);
        expect(g.metrics[metric].n).toBe(RUNS);
      }
      expect(Math.abs(g.metrics.downtime.mean - expectedMean(cell, 'downtime'))).toBeLessThan(1e-3);
      // SD from the exact durations, two-pass in float (independent of Welford).
      const xs = cell.map((m) => toSeconds(m.durations.transfer));
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
      expect(g.metrics.transfer.sd).toBeCloseTo(sd, 12);
      expect(g.metrics.transfer.ci95).toBeCloseTo((2.776445105 * sd) / Math.sqrt(RUNS), 9);
    }
  });

  it('phase shares: scaled stack to 100 %, unscaled stay below (gaps between phases)', () => {
    for (const g of series.groups) {
      const shares = phaseShares(g);
      expect(shares.map((s) => s.phase)).toEqual(OPENSTACK_ORDER);
      const scaled = shares.reduce((a, s) => a + s.scaled, 0);
      const unscaled = shares.reduce((a, s) => a + s.unscaled, 0);
      expect(scaled).toBeCloseTo(100, 9);
      expect(unscaled).toBeLessThan(100);
      expect(unscaled).toBeGreaterThan(95);
    }
  });

  it('CSV carries the same numbers at full precision', () => {
    const rows = seriesCsv(series).trim().split('\n');
    expect(rows[0]).toBe('flavor,load,metric,unit,n,mean,sd,ci95,cov,uncertain_excluded');
    expect(rows).toHaveLength(1 + 20 * 11);
    const row = rows.find((r) => r.startsWith('4,100,transfer,'))!.split(',');
    const g = series.groups.find((x) => x.key['flavor'] === '4' && x.key['load'] === '100')!;
    expect(Number(row[5])).toBe(g.metrics.transfer.mean);
  });

  it('the stats command prints the Appendix-A tables and the exclusions', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      expect(await statsCommand.run([...files.slice(0, 2), '--by', 'flavor,load'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(out).toContain('## flavor 1, load 0 (n = 5)');
    expect(out).toContain('| Phases (seconds) | n | Mean | Standard Deviation | 95% CI | CoV |');
    expect(out).toContain('Excluded: 2 × failed: prepare3 error');
    const cell = truthByCell.get('1/25')!;
    const transferMean = expectedMean(cell, 'transfer').toFixed(4);
    expect(out).toMatch(new RegExp(`\\| Transfer \\| 5 \\| ${transferMean} \\|`));
    expect(out.match(/^\| Downtime \(ms\) \|/gm)).toHaveLength(2);
    // Study cells get the study's mean beside ours (Table A.1.2: flavor 1, 25 % load, transfer 2.1033 s).
    expect(out).toContain('| CoV | Study mean (Table A.1.2) |');
    expect(out).toMatch(/\| Transfer \| 5 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+% \| 2\.1033 \|/);
  });

  it('--include-failed counts the failed migrations too', async () => {
    const all = await loadSeries({ files: files.slice(0, 1), by: ['flavor'], includeFailed: true });
    expect(all.included).toBe(RUNS + 1);
    expect(all.groups[0]!.metrics.authentication.n).toBe(RUNS); // the failed one has no phases
    expect(all.excluded).toEqual([]);
  });
});
