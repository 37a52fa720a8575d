import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { command as reportCommand } from '../../../src/cli/commands/report.js';
import { decodePng, inkInBox } from './png.js';
import { writeOpenstackSeries } from './report-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI !== 'true') {
  console.warn(`skipping report screenshot test: ${CHROMIUM} not installed (apt-get install chromium)`);
}

const dir = mkdtempSync(join(tmpdir(), 'migscope-shot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function chromium(args: string[]): string {
  const profile = mkdtempSync(join(dir, 'profile-'));
  const result = spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--hide-scrollbars', '--force-device-scale-factor=1', `--user-data-dir=${profile}`, ...args,
  ], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`chromium exited ${result.status}: ${result.stderr.slice(-500)}`);
  return result.stdout;
}

interface Box { cls: string; x: number; y: number; width: number; height: number; bars: number; points: number }

/**
 * The page's own layout from the browser: a probe copy of index.html gets a script
 * that records every figure SVG's box and element counts (the report itself has none).
 */
const PROBE = `<script>
addEventListener('load', () => {
  const boxes = [...document.querySelectorAll('figure svg')].map((s) => {
    const r = s.getBoundingClientRect();
    return { cls: s.getAttribute('class'), x: r.x, y: r.y + scrollY, width: r.width, height: r.height,
      bars: s.querySelectorAll('g.bar').length, points: s.querySelectorAll('circle.pt').length };
  });
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(boxes);
  document.body.append(pre);
});
</script>`;

describe.runIf(haveChromium || process.env.CI === 'true')('report rendered in headless Chromium', () => {
  it('draws non-empty charts where the SVGs are laid out', async () => {
    const files = writeOpenstackSeries(dir, 3);
    const outDir = join(dir, 'report');
    const stdout = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await reportCommand.run([...files, '-o', outDir])).toBe(0);
    } finally {
      process.stdout.write = stdout;
    }
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    const probe = join(outDir, 'probe.html');
    writeFileSync(probe, html.replace('</body>', `${PROBE}</body>`));

    // One browser run: the DOM dump carries the probe's boxes, the screenshot the pixels.
    const png = join(dir, 'report.png');
    const dom = chromium(['--window-size=1400,2000', `--screenshot=${png}`, '--dump-dom', `file://${probe}`]);
    const json = /<pre id="probe">([^<]*)<\/pre>/.exec(dom)?.[1];
    expect(json, 'probe output in the dumped DOM').toBeDefined();
    const boxes = JSON.parse(json!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Box[];
    expect(boxes).toHaveLength(4 + 4 + 22 + 3);
    expect(boxes.filter((b) => b.cls === 'share-chart scaled').map((b) => b.bars)).toEqual([5, 5, 5, 5]);
    expect(boxes.filter((b) => b.cls === 'trend-chart').every((b) => b.points === 20)).toBe(true);

    const image = decodePng(readFileSync(png));
    expect([image.width, image.height]).toEqual([1400, 2000]);

    const visible = boxes.filter((b) => b.y + b.height <= image.height && b.width > 100);
    const shareCharts = visible.filter((b) => b.cls === 'share-chart scaled');
    expect(shareCharts.length).toBeGreaterThanOrEqual(2);
    for (const b of shareCharts) {
      const { colored, ink, total } = inkInBox(image, b);
      // 5 stacked bars of 56 × 300 px in a ~690 × 386 px chart: about a third of it is colour.
      expect(colored / total).toBeGreaterThan(0.2);
      expect(ink / total).toBeLessThan(0.7);
    }
    // Negative control: right of the title and summary line (above the first section rule) the page is blank.
    const blank = inkInBox(image, { x: 900, y: 0, width: 480, height: 60 });
    expect(blank.ink / blank.total).toBeLessThan(0.01);
    const trend = visible.find((b) => b.cls === 'trend-chart');
    if (trend) expect(inkInBox(image, trend).colored).toBeGreaterThan(500);
  });
});
