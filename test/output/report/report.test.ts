import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadSeries } from '../../../src/cli/commands/stats.js';
import { command as reportCommand } from '../../../src/cli/commands/report.js';
import { niceTicks, tickLabel } from '../../../src/output/report/axis.js';
import { esc } from '../../../src/output/report/svg.js';
import { count, writeKvmTruth, writeOpenstackSeries } from './report-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'migscope-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runReport(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { code: await reportCommand.run(args), out };
  } finally {
    spy.mockRestore();
  }
}

describe('report of a 20-cell series', () => {
  const RUNS = 3;
  let files: string[];
  const outDir = join(dir, 'series-report');
  beforeAll(async () => {
    files = writeOpenstackSeries(join(dir), RUNS);
    const { code, out } = await runReport([...files, '-o', outDir]);
    expect(code).toBe(0);
    expect(out).toContain('60 migrations');
  });

  it('writes the index and one SVG per figure', () => {
    const names = readdirSync(outDir).sort();
    expect(names.filter((n) => n.startsWith('share-scaled-'))).toEqual([1, 2, 3, 4].map((f) => `share-scaled-flavor-${f}.svg`));
    expect(names.filter((n) => n.startsWith('share-unscaled-'))).toHaveLength(4);
    // 11 metrics (8 phases, libvirt time, total, downtime) × {vs flavor, vs load}
    expect(names.filter((n) => n.startsWith('trend-'))).toHaveLength(22);
    expect(names.filter((n) => n.startsWith('gantt-'))).toHaveLength(3);
    expect(names).toContain('index.html');
  });

  it('stacked bars: 5 loads per flavor chart, 8 phases per bar, scaled stacks reach 100 %', () => {
    const svg = readFileSync(join(outDir, 'share-scaled-flavor-2.svg'), 'utf8');
    expect(count(svg, '<g class="bar"')).toBe(5);
    expect(count(svg, '<rect class="seg"')).toBe(40);
    // Segment heights of one bar add up to the 0–100 % axis height (300 px).
    const firstBar = svg.slice(svg.indexOf('<g class="bar"'), svg.indexOf('</g>', svg.indexOf('<g class="bar"')));
    const heights = [...firstBar.matchAll(/class="seg"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights.reduce((a, b) => a + b, 0)).toBeCloseTo(300, 0);
    const unscaled = readFileSync(join(outDir, 'share-unscaled-flavor-2.svg'), 'utf8');
    const unscaledBar = unscaled.slice(unscaled.indexOf('<g class="bar"'), unscaled.indexOf('</g>', unscaled.indexOf('<g class="bar"')));
    const unscaledSum = [...unscaledBar.matchAll(/class="seg"[^>]*height="([\d.]+)"/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(unscaledSum).toBeLessThan(300);
    expect(unscaledSum).toBeGreaterThan(280);
  });

  it('trend plots: one point and one CI bar per cell, means as in the statistics', async () => {
    const byFlavor = readFileSync(join(outDir, 'trend-transfer-by-flavor.svg'), 'utf8');
    const byLoad = readFileSync(join(outDir, 'trend-transfer-by-load.svg'), 'utf8');
    for (const svg of [byFlavor, byLoad]) {
      expect(count(svg, '<circle class="pt"')).toBe(20);
      expect(count(svg, '<g class="ci"')).toBe(20);
    }
    expect(count(byFlavor, '<g class="series"')).toBe(5); // a line per load
    expect(count(byLoad, '<g class="series"')).toBe(4); // a line per flavor
    const series = await loadSeries({ files, by: ['flavor', 'load'], includeFailed: false });
    const g = series.groups.find((x) => x.key['flavor'] === '4' && x.key['load'] === '100')!;
    expect(byLoad).toContain(`flavor 4, 100: ${g.metrics.transfer.mean.toPrecision(5)} ± ${g.metrics.transfer.ci95.toPrecision(3)} (n = ${RUNS})`);
  });

  it('index.html is self-contained: inline SVG and CSS, no scripts, no external requests', () => {
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    expect(count(html, '<svg ')).toBe(4 + 4 + 22 + 3);
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(|@import/i);
    const urls = [...html.matchAll(/https?:\/\/[^\s"']+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg'])); // XML namespace, never fetched
    expect(count(html, '<table class="appendix-a"')).toBe(20);
    expect(html).not.toContain('class="comparison"'); // only one scenario
  });
});

describe('report with KVM and OpenStack', () => {
  it('adds the Table 5.1 comparison and escapes hostile labels', async () => {
    const sub = mkdtempSync(join(dir, 'mixed-'));
    const [openstack] = writeOpenstackSeries(sub, 4);
    const kvm = writeKvmTruth(sub, 5);
    const labels = join(sub, 'labels.csv');
    writeFileSync(labels, `file,migration,flavor\n${openstack!.split('/').pop()},,"<b>&""x'"\n`);
    const outDir = join(sub, 'out');
    const { code } = await runReport([openstack!, kvm, '--labels', labels, '--by', 'flavor', '-o', outDir]);
    expect(code).toBe(0);
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    const table = html.slice(html.indexOf('<table class="comparison"'), html.indexOf('</table>', html.indexOf('<table class="comparison"')));
    expect(table).toContain('KVM (n = 5)');
    expect(table).toContain('OpenStack (n = 4)');
    // KVM has no OpenStack phases: "-" as in the study; libvirt time 3.0000 s for every KVM run.
    expect(table).toMatch(/data-metric="authentication"><td>Authentication<\/td><td class="num">-<\/td>/);
    expect(table).toMatch(/data-metric="libvirt-total"><td>Migration Time \(libvirt\)<\/td><td class="num">3\.0000<\/td>/);
    expect(table).toMatch(/data-metric="total"><td>Total Migration Time<\/td><td class="num">3\.0000<\/td>/);
    // Study Table 5.1 columns: KVM libvirt time 3.2126 s, OpenStack downtime 19.76 ms, KVM authentication "-".
    expect(table).toMatch(/data-metric="libvirt-total">(<td[^>]*>[^<]*<\/td>){3}<td class="num">3\.2126<\/td><td class="num">3\.2723<\/td>/);
    expect(table).toMatch(/data-metric="downtime">(<td[^>]*>[^<]*<\/td>){4}<td class="num">19\.76<\/td>/);
    expect(table).toMatch(/data-metric="authentication">(<td[^>]*>[^<]*<\/td>){3}<td class="num">-<\/td><td class="num">0\.1408<\/td>/);
    for (const name of readdirSync(outDir)) {
      const text = readFileSync(join(outDir, name), 'utf8');
      expect(text).not.toContain('<b>');
    }
    expect(html).toContain(esc(`flavor <b>&"x'`));
  });
});

describe('axis ticks', () => {
  it('picks 1-2-2.5-5 steps and labels them with the decimals they need', () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(2.05, 12.3, 5)).toEqual([2.5 - 2.5, 2.5, 5, 7.5, 10, 12.5]);
    expect(niceTicks(0.0071, 0.0089, 4)).toEqual([0.007, 0.0075, 0.008, 0.0085, 0.009]);
    const ticks = niceTicks(0, 12.5, 5);
    expect(ticks.map((t) => tickLabel(t, ticks))).toEqual(['0.0', '2.5', '5.0', '7.5', '10.0', '12.5']);
  });
});
