import { PhaseEngine, type EngineSummary, type PhaseEngineOptions } from '../../src/phases/engine.js';
import type { PhaseEvent, PhaseName } from '../../src/phases/events.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';

export interface Run {
  events: PhaseEvent[];
  /** For each event, the index of the message being pushed when it left (-1: at end()). */
  emittedAt: number[];
  summary: EngineSummary;
}

export function runEngine(msgs: ProtocolMessage[], opts: Omit<PhaseEngineOptions, 'onEvent'> = {}): Run {
  const events: PhaseEvent[] = [];
  const emittedAt: number[] = [];
  let current = -1;
  const engine = new PhaseEngine({ ...opts, onEvent: (ev) => { events.push(ev); emittedAt.push(current); } });
  msgs.forEach((m, i) => { current = i; engine.push(m); });
  current = -1;
  const summary = engine.end();
  return { events, emittedAt, summary };
}

export function phaseEnded(events: PhaseEvent[], migration: string, phase: PhaseName) {
  return events.find((e): e is Extract<PhaseEvent, { type: 'phase-ended' }> =>
    e.type === 'phase-ended' && e.migration === migration && e.phase === phase);
}

export function ended(events: PhaseEvent[], migration: string) {
  return events.find((e): e is Extract<PhaseEvent, { type: 'migration-ended' }> =>
    e.type === 'migration-ended' && e.migration === migration);
}
