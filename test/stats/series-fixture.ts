/**
 * Synthetic phase-event NDJSON for a study-like series, with the exact sampled phase
 * durations kept so tests know every mean, without generating and analysing captures
 * (test/stats/generated-series.test.ts does that end to end).
 */
import { PS_PER_MS, PS_PER_S, PS_PER_US, type Picos } from '../../src/core/time.js';
import type { PhaseName } from '../../src/phases/events.js';

export const OPENSTACK_ORDER: readonly PhaseName[] = [
  'authentication', 'initialization', 'remote-connect', 'preparation', 'transfer', 'finish', 'cleanup', 'post-migration',
];

/** Study-like base durations in µs (Table A.1.1, flavor 1 idle). */
const BASE_US: Record<PhaseName, number> = {
  authentication: 124_400, initialization: 1_680_000, 'remote-connect': 7_700, preparation: 569_200,
  transfer: 2_065_500, finish: 111_900, cleanup: 352_800, 'post-migration': 672_000,
};

export interface SyntheticMigration {
  id: string;
  labels: Record<string, string>;
  durations: Record<PhaseName, Picos>;
  phases: Record<PhaseName, { start: Picos; end: Picos }>;
  total: Picos;
  libvirtTotal: Picos;
  downtime: Picos;
  outcome: 'completed' | 'failed';
}


export function synthesizeMigration(
  id: string, labels: Record<string, string>, flavor: number, load: number, rand: () => number, startTs: Picos,
): SyntheticMigration {
  const durations = {} as Record<PhaseName, Picos>;
  const phases = {} as Record<PhaseName, { start: Picos; end: Picos }>;
  let t = startTs;
  for (const phase of OPENSTACK_ORDER) {
    const scale = phase === 'transfer' ? flavor * (1 + load / 200) : 1 + 0.05 * flavor;
    const us = Math.round(BASE_US[phase] * scale * (0.9 + 0.2 * rand()));
    const d = BigInt(us) * PS_PER_US + BigInt(Math.floor(rand() * 1e6)); // sub-µs ps too
    durations[phase] = d;
    // cleanup starts at finish end (docs/phase-markers.md); other phases after a small gap
    const gap = phase === 'cleanup' ? 0n : BigInt(Math.round(rand() * 3000)) * PS_PER_US;
    phases[phase] = { start: t + gap, end: t + gap + d };
    t = t + gap + d;
  }
  return {
    id, labels, durations, phases,
    total: phases['post-migration'].end - phases.authentication.start,
    libvirtTotal: phases.cleanup.end - phases['remote-connect'].start,
    downtime: BigInt(Math.round((15 + 10 * flavor + rand() * 8) * 1000)) * PS_PER_US,
    outcome: 'completed',
  };
}

const str = (p: Picos): string => p.toString();

/** The events `analyze --json` writes for one migration (bigints as decimal strings). */
export function migrationEventLines(m: SyntheticMigration, withNoise = true): string[] {
  const first = m.phases.authentication.start;
  const lines = [JSON.stringify({
    type: 'migration-started', migration: m.id, ts: str(first), scenario: 'openstack',
    source: '10.10.0.11', destination: '10.10.0.12', labels: m.labels,
  })];
  for (const phase of OPENSTACK_ORDER) {
    const span = m.phases[phase];
    lines.push(JSON.stringify({ type: 'phase-started', migration: m.id, ts: str(span.start), phase }));
    if (withNoise && phase === 'transfer') {
      for (let i = 1; i <= 3; i++) {
        lines.push(JSON.stringify({ type: 'progress', migration: m.id, ts: str(span.start + BigInt(i) * PS_PER_MS), bytes: i * 1e6, rate: 1e8, iteration: 1 }));
      }
    }
    lines.push(JSON.stringify({ type: 'phase-ended', migration: m.id, ts: str(span.end), phase, duration: str(m.durations[phase]) }));
  }
  const end = m.phases['post-migration'].end;
  lines.push(JSON.stringify({
    type: 'migration-ended', migration: m.id, ts: str(end), outcome: m.outcome,
    total: str(m.total), libvirtTotal: str(m.libvirtTotal), downtime: str(m.downtime),
    stream: { bytes: 1, iterations: 1, precopyBytes: 1, stopCopyBytes: 0 },
    phases: Object.fromEntries(OPENSTACK_ORDER.map((p) => [p, { start: str(m.phases[p].start), end: str(m.phases[p].end) }])),
  }));
  return lines;
}

/** Exact mean of bigint picosecond durations, as float seconds. */
export function exactMeanSeconds(values: readonly Picos[]): number {
  const sum = values.reduce((a, b) => a + b, 0n);
  const n = BigInt(values.length);
  return Number(sum / n) / Number(PS_PER_S) + Number(sum % n) / Number(n) / Number(PS_PER_S);
}
