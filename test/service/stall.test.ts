/**
 * `stalled` alerts against a generated OpenStack migration: its events are fed to the
 * service core at their wire times (a fake wall clock, paced like a live capture), with
 * the stall check ticking every 50 ms. Phases that run longer than the stall time
 * without an event (per the truth's phase spans) must raise one stall each, at the
 * stall time after their last event; Transfer, which reports progress every 100 ms,
 * never stalls, and every stall clears with the next progress.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PS_PER_MS, toSeconds } from '../../src/core/time.js';
import type { PhaseEvent, Stalled } from '../../src/phases/events.js';
import { ServeCore } from '../../src/service/core.js';
import { generateAndAnalyse, tempDir } from '../phases/generated.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('stall detector', () => {
  it('raises one stall per event-less stretch longer than the stall time, none in Transfer', async () => {
    const { truth, events } = await generateAndAnalyse(tmp.dir, 'stall.pcap', { scenario: 'openstack', flavor: 2, load: 0, runs: 1, seed: 3, payloadScale: 0.02 });
    const t = truth.migrations[0]!;
    const stallAfter = 1000n * PS_PER_MS;
    const t0 = events[0]!.ts;
    let wall = 0;
    const core = new ServeCore({ version: 't', stallAfter, paced: true, wallMs: () => wall });
    const step = 50n * PS_PER_MS;
    let tick = t0;
    const ordered = [...events].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    for (const ev of ordered) {
      // Time passes on the fake wall clock up to this event, ticking as serve's timer does.
      for (; tick + step <= ev.ts; tick += step) {
        wall = Number((tick + step - t0) / PS_PER_MS);
        core.tick();
      }
      wall = Number((ev.ts - t0) / PS_PER_MS);
      core.push({ kind: 'event', event: ev });
    }
    const stalls = core.log.since(0).map((e) => e.event).filter((e): e is Stalled => e.type === 'stalled');
    // The truth's event-less stretches: gaps between successive events of m1 while it runs.
    const mine = ordered.filter((e: PhaseEvent) => e.migration === 'm1' && e.type !== 'anomaly');
    const expected: { since: bigint }[] = [];
    for (let i = 1; i < mine.length; i++) {
      if (mine[i]!.ts - mine[i - 1]!.ts > stallAfter + step) expected.push({ since: mine[i - 1]!.ts });
    }
    expect(expected.length).toBeGreaterThan(0);
    expect(stalls.map((s) => s.since)).toEqual(expected.map((e) => e.since));
    for (const s of stalls) {
      expect(s.idle).toBeGreaterThanOrEqual(stallAfter);
      expect(s.idle).toBeLessThan(stallAfter + step);
      const span = t.phases[s.phase as keyof typeof t.phases];
      expect(span, s.phase).toBeDefined();
      expect(s.ts > span!.start && s.ts < span!.end, `${s.phase} stall at ${toSeconds(s.ts - t0)} s inside the phase`).toBe(true);
      expect(s.phase).not.toBe('transfer');
    }
    const view = core.board.get('m1')!;
    expect(view.state).toBe('ended');
    expect(view.stalled).toBeUndefined();
    const metrics = await core.metrics.registry.metrics();
    expect(metrics).toMatch(new RegExp(`^migscope_alerts_total\\{kind="stalled",verdict="[a-z-]+"\\} \\d+$`, 'm'));
  });
});
