import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeries } from '../../src/cli/commands/stats.js';
import { PS_PER_US, toSeconds, type Picos } from '../../src/core/time.js';
import { studentTQuantile } from '../../src/stats/student-t.js';
import type { MigrationTruth } from '../../src/generate/index.js';
import { writeGeneratedSeries } from '../../src/generate/series.js';
import { PHASES } from '../../src/phases/events.js';
import type { SeriesSummary } from '../../src/stats/series.js';
import { exactMeanSeconds } from './series-fixture.js';

/**
 * The study's design in miniature: flavor 1–4 × CPU load 0/25/50/75/100, generated
 * captures (the generator) → analysis pipeline → statistics. Every recovered mean
 * must match the generator's own sampled mean to 1 µs. 5 runs per cell keep it quick;
 * the study's 30 is the same test with MIGSCOPE_SERIES_RUNS=30 (README, "Statistics and
 * reports").
 */
const FLAVORS = [1, 2, 3, 4];
const LOADS = [0, 25, 50, 75, 100];
const RUNS = Number(process.env['MIGSCOPE_SERIES_RUNS'] ?? 5);
if (!Number.isInteger(RUNS) || RUNS < 2) throw new Error('MIGSCOPE_SERIES_RUNS must be a whole number ≥ 2 (an SD needs two runs)');

const dir = mkdtempSync(join(tmpdir(), 'migscope-genseries-'));
const captures: string[] = [];
const truthFiles: string[] = [];
const truthByCell = new Map<string, MigrationTruth[]>();
let fromCaptures: SeriesSummary;
let fromTruth: SeriesSummary;

beforeAll(async () => {
  const cells = writeGeneratedSeries(dir, { flavors: FLAVORS, loads: LOADS, runs: RUNS, seed: 100, payloadScale: 0.0002 });
  const labelRows = ['file,flavor,load'];
  for (const cell of cells) {
    captures.push(cell.capture);
    truthFiles.push(cell.truthFile);
    truthByCell.set(`${cell.flavor}/${cell.load}`, cell.truth.migrations);
    labelRows.push(`${basename(cell.capture)},${cell.flavor},${cell.load}`);
  }
  const labels = join(dir, 'labels.csv');
  writeFileSync(labels, `${labelRows.join('\n')}\n`);
  fromCaptures = await loadSeries({ files: captures, by: ['flavor', 'load'], labels, includeFailed: false });
  fromTruth = await loadSeries({ files: truthFiles, by: ['flavor', 'load'], includeFailed: false });
}, 240_000 + RUNS * 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function truthMean(cell: MigrationTruth[], metric: string): number | undefined {
  const values: Picos[] = [];
  for (const m of cell) {
    const v = metric === 'total' ? m.total : metric === 'libvirt-total' ? m.libvirtTotal : metric === 'downtime' ? m.downtime
      : m.phases[metric as (typeof PHASES)[number]] ? m.phases[metric as (typeof PHASES)[number]]!.end - m.phases[metric as (typeof PHASES)[number]]!.start : undefined;
    if (v !== undefined) values.push(v);
  }
  if (values.length === 0) return undefined;
  return metric === 'downtime' ? exactMeanSeconds(values) * 1e3 : exactMeanSeconds(values);
}

describe('generated 20-cell series: generate → analyze → stats', () => {
  it('finds every migration of every cell, labelled from the CSV', () => {
    expect(fromCaptures.included).toBe(FLAVORS.length * LOADS.length * RUNS);
    expect(fromCaptures.excluded).toEqual([]);
    expect(fromCaptures.groups.map((g) => `${g.key['flavor']}/${g.key['load']}`)).toEqual(
      FLAVORS.flatMap((f) => LOADS.map((l) => `${f}/${l}`)));
  });

  it('recovers each phase, total and downtime mean within 1 µs of the generator sample', () => {
    const tolerance = toSeconds(PS_PER_US);
    let checked = 0;
    for (const g of fromCaptures.groups) {
      const cell = truthByCell.get(`${g.key['flavor']}/${g.key['load']}`)!;
      for (const metric of [...PHASES, 'libvirt-total', 'total', 'downtime'] as const) {
        const expected = truthMean(cell, metric);
        if (expected === undefined) continue;
        const got = g.metrics[metric].mean;
        // downtime is in ms: 1 µs = 1e-3 ms
        expect(Math.abs(got - expected), `${g.title} ${metric}`).toBeLessThan(metric === 'downtime' ? tolerance * 1e3 : tolerance);
        expect(g.metrics[metric].n).toBe(RUNS);
        checked++;
      }
    }
    expect(checked).toBe(20 * 11);
  });

  it('reports the 95 % CI as t(0.975, n−1)·SD/√n, computed here by hand from the truth', () => {
    const cell = truthByCell.get('3/50')!;
    const seconds = cell.map((m) => toSeconds(m.phases.transfer!.end - m.phases.transfer!.start));
    const mean = seconds.reduce((a, b) => a + b, 0) / RUNS;
    const sd = Math.sqrt(seconds.reduce((a, x) => a + (x - mean) ** 2, 0) / (RUNS - 1));
    const group = fromCaptures.groups.find((g) => g.key['flavor'] === '3' && g.key['load'] === '50')!;
    expect(group.metrics.transfer.sd).toBeCloseTo(sd, 6);
    expect(group.metrics.transfer.ci95).toBeCloseTo((studentTQuantile(0.975, RUNS - 1) * sd) / Math.sqrt(RUNS), 6);
    if (RUNS === 5) expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776445, 6); // the t table, not 1.96
  });

  it('statistics of the truth files agree with those of the captures', () => {
    expect(fromTruth.groups).toHaveLength(20);
    for (const [i, g] of fromTruth.groups.entries()) {
      const c = fromCaptures.groups[i]!;
      expect(c.key).toEqual({ flavor: g.key['flavor'], load: g.key['load'] });
      for (const metric of ['transfer', 'total', 'libvirt-total'] as const) {
        expect(Math.abs(c.metrics[metric].mean - g.metrics[metric].mean)).toBeLessThan(1e-6);
        expect(c.metrics[metric].sd).toBeCloseTo(g.metrics[metric].sd, 6);
      }
    }
  });
});
