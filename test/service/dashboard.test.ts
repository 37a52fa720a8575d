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
import { decodePng, inkInBox } from '../output/report/png.js';
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

const RECORD_RUNNING = `window.__runningSeen = [];
new MutationObserver(() => {
  for (const p of document.querySelectorAll('.migration[data-state="running"] .phase[data-state="running"]')) {
    if (!window.__runningSeen.includes(p.dataset.phase)) window.__runningSeen.push(p.dataset.phase);
  }
}).observe(document, { subtree: true, childList: true });`;

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

    // Chromium first (its start-up takes seconds), then serve, whose replay starts at once.
    page = await HeadlessPage.open();
    serve = await startServe([file, '--realtime', '--speed', '1', '--stall-after', '600']);
    // The page itself records every phase it ever drew as running (a busy machine may
    // delay the test's own polling, not the page's rendering).
    await page.navigate(`${serve.url}/`, RECORD_RUNNING);
    let final: Seen | undefined;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const seen = await page.evaluate<Seen[]>(READ_DOM).catch(() => [] as Seen[]);
      final = seen.find((m) => m.state === 'ended');
      if (final) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const runningPhases = new Set(await page.evaluate<string[]>('window.__runningSeen'));
    expect(final, 'the migration ends on the page').toBeDefined();
    expect([...runningPhases], 'phases seen running, in order').toEqual(phases.filter((p) => runningPhases.has(p)));
    expect(runningPhases.has('transfer'), 'Transfer seen while it ran').toBe(true);
    // Every phase that lasted 0.3 s or more on the wire was on screen while it ran, from
    // the libvirt connection on (before it the engine has not recognised the migration:
    // OpenStack's first phases arrive together once it has, README "Events").
    const recognised = ended.phases['remote-connect']!.start;
    for (const [p, span] of Object.entries(ended.phases)) {
      if (span.start >= recognised && span.end - span.start >= 300_000_000_000n) expect(runningPhases.has(p), `${p} seen running`).toBe(true);
    }
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
