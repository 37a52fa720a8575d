/**
 * The convergence alert on real QEMU 7.2 migrations (loopback, TCG; recipe in
 * ../shared/real-peers.md). A guest rewriting a 4 MiB working set faster than the 2 MB/s
 * max-bandwidth lets it be sent, with a 20 ms downtime limit, never converges: every
 * pass re-sends the same 4 MiB. migscope must say `will-not-converge` from the passes
 * on the wire, before the QMP migrate_cancel that ends it (seen as the stream's FIN).
 * The same guest with 20 MB/s and a 300 ms limit (its working set fits the stop
 * threshold) converges, and no estimate may say otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Convergence, MigrationEnded, PhaseEvent } from '../../src/phases/events.js';
import { analyzeSources } from '../../src/pipeline/analyze.js';
import { ServeCore } from '../../src/service/core.js';
import { runQemuMigration } from './harness/qemu-migration.js';

const ci = process.env.CI === 'true';
const missing = ['qemu-system-x86_64', 'nasm', 'tcpdump'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const runnable = process.getuid?.() === 0 && missing.length === 0;
if (!runnable && !ci) console.warn(`skipping real QEMU convergence test: need root and ${missing.join(', ')}`);

const work = mkdtempSync(join(tmpdir(), 'migscope-qemu-conv-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function analyse(pcap: string, downtimeLimitMs: number): Promise<PhaseEvent[]> {
  const events: PhaseEvent[] = [];
  await analyzeSources([pcap], { onEvent: (e) => events.push(e), downtimeLimitMs });
  return events;
}

describe.runIf(runnable || ci)('convergence alert on real QEMU migrations', () => {
  it('a guest dirtying faster than max-bandwidth: will-not-converge before the cancel', async () => {
    const run = await runQemuMigration({
      workDir: work, memMiB: 64, maxBandwidth: 2_000_000, downtimeLimitMs: 20, dirtySeconds: 60, timeoutMs: 60_000, cancelAfterMs: 12_000,
    }, 'never');
    expect(run.truth.status).toBe('cancelled');
    const events = await analyse(run.pcap, 20);
    const ended = events.find((e): e is MigrationEnded => e.type === 'migration-ended')!;
    expect(ended.outcome).toBe('cancelled');
    const cancelAt = ended.phases.transfer!.end; // the stream's FIN after migrate_cancel
    const conv = events.filter((e): e is Convergence => e.type === 'convergence');
    // Pass 1 (all 64 MiB, mostly zero pages) and at least two re-sends of the working set.
    expect(conv.length).toBeGreaterThanOrEqual(3);
    for (const c of conv.slice(1)) {
      // Each re-sent pass is the 4 MiB working set (1024 pages, 4 KiB + 8 bytes each).
      expect(c.passBytes, `pass ${c.iteration} size`).toBeGreaterThan(0.95 * 1024 * 4104);
      expect(c.passBytes, `pass ${c.iteration} size`).toBeLessThan(1.05 * 1024 * 4104 + 65536);
      expect(c.wireRate, `pass ${c.iteration} wire rate`).toBeLessThan(2_000_000 * 1.15);
      expect(c.verdict, `pass ${c.iteration}`).toBe('will-not-converge');
      expect(c.ts).toBeLessThan(cancelAt);
    }
    console.log(`real QEMU non-converging: ${conv.map((c) => `pass ${c.iteration} ${c.passBytes} B in ${(Number(c.passDuration) / 1e12).toFixed(3)} s`
      + `${c.ratio !== undefined ? ` ratio ${c.ratio.toFixed(3)} ${c.verdict}` : ''}`).join('; ')}; cancel FIN ${(Number(cancelAt - conv[1]!.ts) / 1e12).toFixed(2)} s after the first verdict`);
    // Through serve's metrics as well.
    const core = new ServeCore({ version: 't', stallAfter: 10n ** 15n, paced: false });
    for (const event of events) core.push({ kind: 'event', event });
    const metrics = await core.metrics.registry.metrics();
    expect(metrics).toMatch(new RegExp(`^migscope_alerts_total\\{kind="convergence",verdict="will-not-converge"\\} ${conv.length - 1}$`, 'm'));
  }, 240_000);

  it('the same guest when its working set fits the stop threshold: converges, no will-not-converge', async () => {
    const run = await runQemuMigration({
      workDir: work, memMiB: 64, maxBandwidth: 20_000_000, downtimeLimitMs: 300, dirtySeconds: 60, timeoutMs: 60_000,
    }, 'converges');
    expect(run.truth.status).toBe('completed');
    const events = await analyse(run.pcap, 300);
    const ended = events.find((e): e is MigrationEnded => e.type === 'migration-ended')!;
    expect(ended.outcome).toBe('completed');
    const conv = events.filter((e): e is Convergence => e.type === 'convergence');
    expect(conv.length).toBeGreaterThanOrEqual(1);
    expect(conv.filter((c) => c.verdict === 'will-not-converge')).toEqual([]);
    expect(events.filter((e) => e.type === 'switchover')).toHaveLength(1);
  }, 240_000);
});
