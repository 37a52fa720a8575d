/**
 * bench/live.ts in its smoke form: the benchmark itself is not a test, but its
 * machinery (namespaces, tcpreplay at a set rate, migscope's ring path and cap's capture
 * child, the drop-free verdict, cleanup) must keep working for `npm run bench`.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { measureLiveDropFree, formatLiveResult } from '../../bench/live.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { isCI, requirement } from './helpers.js';

const missing = requirement();
if (missing && !isCI) console.log(`skipping live bench smoke: ${missing}`);

describe.skipIf(missing !== undefined && !isCI)('live drop-free benchmark (smoke)', () => {
  it('measures migscope and cap at low rates without drops and removes its namespaces', async () => {
    requireCompiledWorker(); // decode workers and cap's capture child run from dist/
    const log: string[] = [];
    const r = await measureLiveDropFree({ smoke: true, maxDoublings: 0, log: (l) => log.push(l) });
    expect(r.trace.packets).toBeGreaterThan(10_000);
    expect(r.sender.sent).toBeGreaterThan(0);
    expect(r.paths.map((p) => p.path)).toEqual(['migscope', 'cap-count']);
    for (const p of r.paths) {
      const first = p.trials[0]!;
      // 5000 pps for ~2.6 s: far below either path's limit on any machine.
      expect(first.replay.sent).toBe(r.trace.packets);
      expect(first.captured).toBe(first.replay.sent);
      expect(first.dropFree).toBe(true);
      expect(p.dropFreePps).toBeGreaterThan(4000);
    }
    const m = r.paths[0]!.trials[0]!;
    expect(m.ringDrops).toBe(0);
    expect(m.kernelDrops).toBe(0);
    expect(m.messages).toBeGreaterThan(1000); // the workers decoded, not just counted
    expect(r.ratioVsCapCount).not.toBeNull();
    expect(formatLiveResult(r)).toContain('| migscope |');
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(left).not.toContain(`mgs-b${process.pid % 100000}-`);
  }, 120_000);
});
