import type { Picos } from '../core/time.js';
import type { Stalled } from '../phases/events.js';
import type { MigrationView } from './board.js';

/**
 * `stalled`: a running migration whose latest progress (phase change, more stream
 * bytes, switch-over) is older than `after` in wire time. Raised once per stall; the
 * board clears it with the next progress.
 */
export function findStalls(running: readonly MigrationView[], now: Picos, after: Picos): Stalled[] {
  const out: Stalled[] = [];
  for (const m of running) {
    if (m.stalled !== undefined) continue;
    const idle = now - m.lastProgressAt;
    if (idle < after) continue;
    const phase = m.phase ?? m.phases[m.phases.length - 1]?.phase;
    if (phase === undefined) continue;
    out.push({ type: 'stalled', migration: m.id, ts: now, phase, since: m.lastProgressAt, idle });
  }
  return out;
}
