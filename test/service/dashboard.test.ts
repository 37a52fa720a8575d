/**
 * The dashboard in headless Chromium while a generated migration replays in real time:
 * the page must show the migration running in its current phase (Transfer among them),
 * then the completed timeline with the phases `analyze --json` finds in the same trace.
 * MIGSCOPE_UPDATE_SCREENSHOTS=1 keeps the final picture as docs/dashboard-screenshot.png.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTrace } from '../../src/generate/write-trace.js';
import type { MigrationEnded } from '../../src/phases/events.js';
import { decodePng, inkInBox } from '../report/png.js';
import { CHROMIUM, HeadlessPage } from './cdp.js';
import { cli, parseEvents, repoRoot, startServe, tempDir, waitFor, type ServeProcess } from './helpers.js';

const have = existsSync(CHROMIUM);
if (!have && process.env.CI !== 'true') console.warn(`skipping dashboard test: ${CHROMIUM} missing (apt-get install chromium)`);
const exec = promisify(execFile);

interface Seen { id: string; state: string; running: string[]; done: string[]; badges: string[]; passes: number; text: string }
const READ_DOM = `[...document.querySelectorAll('.migration')].map((m) => ({
  id: m.dataset.id, state: m.dataset.state,
  running: [...m.querySelectorAll('.phase[data-state="running"]')].map((p) => p.dataset.phase),
  done: [...m.querySelectorAll('.phase[data-state="done"]')].map((p) => p.dataset.phase),
  badges: [...m.querySelectorAll('.badge')].map((b) => b.textContent),
  passes: m.querySelectorAll('table.passes tr[data-state="done"]').length,
  text: m.textContent }))`;

describe.runIf(have || process.env.CI === 'true')('serve dashboard in headless Chromium', () => {
  const tmp = tempDir('migscope-dash-');
  let serve: ServeProcess | undefined;
  let page: HeadlessPage | undefined;
  afterAll(async () => {
    await page?.close();
    await serve?.stop();
    tmp.cleanup();
  });

  it('shows the running phase, then the completed timeline', async () => {
    const file = join(tmp.dir, 'kvm.pcap');
    writeTrace(file, { scenario: 'openstack', flavor: 1, load: 50, linkGbps: 1, runs: 1, overlap: false, seed: 7, payloadScale: 0.02 }, 'pcap');
    const { stdout } = await exec('node', [cli, 'analyze', '--json', file], { maxBuffer: 64 << 20 });
    const ended = parseEvents(stdout).find((e): e is MigrationEnded => e.type === 'migration-ended')!;
    const phases = Object.entries(ended.phases).sort((a, b) => (a[1].start < b[1].start ? -1 : 1)).map(([p]) => p);

    // Chromium first, so the page is connected before the replay starts.
    serve = await startServe([file, '--realtime', '--speed', '1', '--stall-after', '600']);
    page = await HeadlessPage.open(`${serve.url}/`);
    const runningPhases = new Set<string>();
    let final: Seen | undefined;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const seen = await page.evaluate<Seen[]>(READ_DOM).catch(() => [] as Seen[]);
      for (const m of seen) if (m.state === 'running') m.running.forEach((p) => runningPhases.add(p));
      final = seen.find((m) => m.state === 'ended');
      if (final) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(final, 'the migration ends on the page').toBeDefined();
    expect([...runningPhases], 'phases seen running, in order').toEqual(phases.filter((p) => runningPhases.has(p)));
    expect(runningPhases.has('transfer'), 'Transfer seen while it ran').toBe(true);
    expect(runningPhases.size).toBeGreaterThanOrEqual(4);
    expect(final!.id).toBe(ended.migration);
    expect(final!.running).toEqual([]);
    expect(final!.done).toEqual(phases);
    expect(final!.badges).toContain('completed');
    expect(final!.passes).toBe(ended.stream!.iterations - 1);
    expect(final!.text).toMatch(/downtime \d+\.\d{4} s/);
    expect(final!.text).toMatch(/switch-over after \d+ passes/);

    const shot = await page.screenshot();
    const png = decodePng(shot);
    const box = await page.evaluate<{ x: number; y: number; width: number; height: number }>(
      `(() => { const r = document.querySelector('.migration[data-state="ended"] .timeline').getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`);
    expect(inkInBox(png, box).colored, 'the timeline is drawn').toBeGreaterThan(box.width * box.height * 0.5);
    if (process.env.MIGSCOPE_UPDATE_SCREENSHOTS === '1') writeFileSync(join(repoRoot, 'docs', 'dashboard-screenshot.png'), shot);
  }, 180_000);
});
