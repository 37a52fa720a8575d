import type { Picos } from '../core/time.js';
import { PHASES, type Outcome, type PhaseName, type Scenario } from '../phases/events.js';
import type { PhaseSpan } from './record.js';

/** Helpers that read the JSON form of events/truth (bigints as decimal strings) without throwing. */

const DECIMAL = /^-?\d+$/;

/** A decimal string (or a safe integer number) → bigint; undefined when absent or malformed. */
export function picosField(value: unknown): Picos | undefined {
  if (typeof value === 'string' && DECIMAL.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint') return value;
  return undefined;
}

export function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const OUTCOMES: readonly Outcome[] = ['completed', 'failed', 'cancelled', 'incomplete'];
export function outcomeField(value: unknown): Outcome | undefined {
  return OUTCOMES.find((o) => o === value);
}

export function scenarioField(value: unknown): Scenario | undefined {
  return value === 'kvm' || value === 'openstack' ? value : undefined;
}

/** Label values as strings (truth factors are numbers). */
export function labelsField(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!isRecord(value)) return labels;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') labels[k] = String(v);
  }
  return labels;
}

/** `{phase: {start, end, uncertain?}}`; entries with a malformed or reversed span are dropped and counted. */
export function phasesField(value: unknown, onBad: (reason: string) => void): Partial<Record<PhaseName, PhaseSpan>> {
  const phases: Partial<Record<PhaseName, PhaseSpan>> = {};
  if (!isRecord(value)) return phases;
  for (const name of PHASES) {
    const raw = value[name];
    if (raw === undefined) continue;
    if (!isRecord(raw)) {
      onBad(`phase '${name}' is not an object`);
      continue;
    }
    const start = picosField(raw['start']);
    const end = picosField(raw['end']);
    if (start === undefined || end === undefined) {
      onBad(`phase '${name}' without start/end`);
      continue;
    }
    if (end < start) {
      onBad(`phase '${name}' ends before it starts`);
      continue;
    }
    const uncertain = stringField(raw['uncertain']);
    phases[name] = uncertain === undefined ? { start, end } : { start, end, uncertain };
  }
  return phases;
}

/** Scenario from the phases when no migration-started was seen: OpenStack adds authentication etc. */
export function inferScenario(phases: Partial<Record<PhaseName, PhaseSpan>>): Scenario | undefined {
  if (phases.authentication || phases.initialization || phases['post-migration']) return 'openstack';
  if (phases['remote-connect'] || phases.transfer) return 'kvm';
  return undefined;
}
