/**
 * A real Prometheus (Debian's `prometheus`) scrapes `migscope serve` every second while
 * a generated migration replays in real time; the series it stored, read back through
 * its HTTP API, must agree with `migscope analyze --json` of the same trace.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { toSeconds } from '../../src/core/time.js';
import type { Convergence, Downtime, MigrationEnded, PhaseEnded } from '../../src/phases/events.js';
import { writeTrace } from '../../src/generate/write-trace.js';
import { cli, parseEvents, PROMETHEUS, startPrometheus, startServe, tempDir, type PrometheusProcess, type ServeProcess } from './helpers.js';

const have = existsSync(PROMETHEUS);
if (!have && process.env.CI !== 'true') console.warn(`skipping Prometheus test: ${PROMETHEUS} missing (apt-get install prometheus)`);
const exec = promisify(execFile);

describe.runIf(have || process.env.CI === 'true')('Prometheus scrapes migscope serve', () => {
  const tmp = tempDir('migscope-prom-');
  let serve: ServeProcess | undefined;
  let prom: PrometheusProcess | undefined;
  afterAll(async () => {
    await serve?.stop();
    await prom?.stop();
    tmp.cleanup();
  });

  it('stores series that match analyze --json of the same trace', async () => {
    const file = join(tmp.dir, 'm.pcap');
    const truth = writeTrace(file, { scenario: 'openstack', flavor: 3, load: 50, linkGbps: 1, runs: 2, overlap: false, seed: 13, payloadScale: 0.02 }, 'pcap');
    const { stdout } = await exec('node', [cli, 'analyze', '--json', file], { maxBuffer: 64 << 20 });
    const events = parseEvents(stdout);
    const ended = events.filter((e): e is MigrationEnded => e.type === 'migration-ended');
    expect(ended.map((e) => e.outcome)).toEqual(['completed', 'completed']);

    // Wire speed: each Transfer (~3.6 s) spans several 1 s scrapes even on a busy machine.
    serve = await startServe([file, '--realtime', '--speed', '1']);
    prom = await startPrometheus(tmp.dir, serve.url.replace('http://', ''));
    const { query } = prom;
    await serve.drained;
    // Two more scrapes after the last event.
    await new Promise((r) => setTimeout(r, 2500));
    const { one } = prom;

    expect(await one('sum(migscope_migrations_started_total)')).toBe(events.filter((e) => e.type === 'migration-started').length);
    expect(await one('migscope_migrations_ended_total{outcome="completed",scenario="openstack"}')).toBe(2);
    expect(await one('migscope_migrations_running')).toBe(0);
    const phaseEnds = events.filter((e): e is PhaseEnded => e.type === 'phase-ended' && e.uncertain === undefined);
    for (const phase of new Set(phaseEnds.map((e) => e.phase))) {
      const mine = phaseEnds.filter((e) => e.phase === phase);
      const sum = mine.reduce((a, e) => a + toSeconds(e.duration), 0);
      expect(await one(`migscope_phase_duration_seconds_count{phase="${phase}"}`), phase).toBe(mine.length);
      expect(await one(`migscope_phase_duration_seconds_sum{phase="${phase}"}`), phase).toBeCloseTo(sum, 9);
    }
    const streamBytes = ended.reduce((a, e) => a + (e.stream?.bytes ?? 0), 0);
    expect(await one('sum(migscope_migration_stream_bytes_total)')).toBe(streamBytes);
    // Per running migration: the series existed while it ran (scraped at least once in
    // Transfer), never above what the stream finally carried, and is gone now.
    const seen = await query('max_over_time(migscope_migration_transferred_bytes[10m])');
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      const mine = ended.find((e) => `${e.migration}` === s.metric['migration']);
      expect(mine, s.metric['migration']).toBeDefined();
      expect(Number(s.value[1])).toBeGreaterThan(0);
      expect(Number(s.value[1])).toBeLessThanOrEqual(mine!.stream!.bytes);
    }
    expect(await query('migscope_migration_transferred_bytes')).toEqual([]);
    expect(await one('max_over_time(migscope_migrations_in_phase{phase="transfer"}[10m])')).toBe(1);
    const downtimes = events.filter((e) => e.type === 'downtime');
    const last = downtimes[downtimes.length - 1];
    expect(last).toBeDefined();
    expect(await one('migscope_last_downtime_seconds')).toBeCloseTo(toSeconds((last as { duration: bigint }).duration), 9);
    const lastDown = last as Downtime;
    expect(await one('migscope_last_vm_pause_seconds')).toBeCloseTo(toSeconds(lastDown.pause!.end - lastDown.pause!.start), 9);
    expect(await one('migscope_last_network_reconvergence_seconds')).toBeCloseTo(toSeconds(lastDown.reconvergence!.end - lastDown.reconvergence!.start), 9);
    const verdicts = events.filter((e): e is Convergence => e.type === 'convergence' && e.verdict !== undefined);
    for (const v of new Set(verdicts.map((c) => c.verdict))) {
      expect(await one(`migscope_alerts_total{kind="convergence",verdict="${v}"}`), v).toBe(verdicts.filter((c) => c.verdict === v).length);
    }
    expect(await one('migscope_capture_packets_total')).toBe(truth.packets);
    expect(await one('migscope_build_info')).toBe(1);
  }, 180_000);
});
