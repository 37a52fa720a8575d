/** Runs `migscope analyze` on a crafted capture and reads what it said. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { GroundTruth } from '../../src/generate/index.js';

const BIN = join(__dirname, '../../bin/migscope.js');

export interface CliRun {
  code: number | null;
  stderr: string;
  events: Record<string, unknown>[];
  /** Sum of anomaly counts per kind. */
  anomalies: Record<string, number>;
  /** The anomaly reasons seen per kind. */
  reasons: Record<string, Set<string>>;
}

export function analyze(file: string, args: string[] = []): CliRun {
  const r = spawnSync(process.execPath, [BIN, 'analyze', file, '--json', ...args], {
    encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 300_000,
  });
  const events = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const anomalies: Record<string, number> = {};
  const reasons: Record<string, Set<string>> = {};
  for (const e of events) {
    if (e.type !== 'anomaly') continue;
    const k = e.kind as string;
    anomalies[k] = (anomalies[k] ?? 0) + (e.count as number);
    (reasons[k] ??= new Set()).add(String(e.reason ?? ''));
  }
  return { code: r.status, stderr: r.stderr, events, anomalies, reasons };
}

/** Exit 0, nothing on stderr that looks like a stack trace. */
export function expectClean(r: CliRun): void {
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code, r.stderr).toBe(0);
}

/** The generated migration came back with exactly the truth's phases and outcome. */
export function expectMigrationFound(r: CliRun, truth: GroundTruth): void {
  for (const t of truth.migrations) {
    const ended = r.events.find((e) => e.type === 'migration-ended' && e.domain === t.domain);
    expect(ended, `migration ${t.domain} found`).toBeDefined();
    expect(ended!.outcome).toBe(t.outcome === 'completed' ? 'completed' : ended!.outcome);
    const phases = ended!.phases as Record<string, { start: string; end: string; uncertain?: string }>;
    expect(Object.keys(phases).sort()).toEqual(Object.keys(t.phases).sort());
    for (const [name, span] of Object.entries(t.phases)) {
      expect(phases[name]!.uncertain, `${name} uncertain`).toBeUndefined();
      expect(BigInt(phases[name]!.start), `${name} start`).toBe(span!.start);
      expect(BigInt(phases[name]!.end), `${name} end`).toBe(span!.end);
    }
    if (t.downtime !== undefined) expect(BigInt(ended!.downtime as string)).toBe(t.downtime);
  }
}
