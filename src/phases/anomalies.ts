import { PS_PER_S, type Picos } from '../core/time.js';
import type { AnomalyEvent, PhaseEvent } from './events.js';
import type { Anomaly, AnomalyKind } from '../protocols/types.js';

/** Repeats of one anomaly kind within this much wire time are folded into one event. */
const FOLD_WINDOW: Picos = PS_PER_S;

interface Pending { migration: string; kind: AnomalyKind; count: number; ts: Picos; reason: string; lastEmit: Picos }

/**
 * Anomalies become `anomaly` events without flooding the stream: the first of a kind
 * (per migration) is emitted at once, repeats within a second of wire time are counted
 * and emitted as one event when the window passes or at the end. Counts are never dropped:
 * the sum over the events equals the sum over the messages.
 */
export class AnomalyAggregator {
  private readonly pending = new Map<string, Pending>();
  readonly totals: Partial<Record<AnomalyKind, number>> = {};

  constructor(private readonly sink: (ev: PhaseEvent) => void) {}

  add(msg: Anomaly, migration: string): void {
    this.totals[msg.kind] = (this.totals[msg.kind] ?? 0) + msg.count;
    const key = `${migration}|${msg.kind}`;
    const p = this.pending.get(key);
    if (!p) {
      this.pending.set(key, { migration, kind: msg.kind, count: 0, ts: msg.ts, reason: msg.reason, lastEmit: msg.ts });
      this.emit({ migration, kind: msg.kind, count: msg.count, ts: msg.ts, reason: msg.reason });
      return;
    }
    if (p.count === 0) { p.ts = msg.ts; p.reason = msg.reason; }
    p.count += msg.count;
    if (msg.ts - p.lastEmit >= FOLD_WINDOW) this.flushOne(p, msg.ts);
  }

  /** Emits every folded count (end of input, or a migration closing). */
  flush(migration?: string): void {
    for (const p of this.pending.values()) {
      if (migration === undefined || p.migration === migration) this.flushOne(p, p.ts);
    }
  }

  private flushOne(p: Pending, now: Picos): void {
    if (p.count === 0) return;
    this.emit({ migration: p.migration, kind: p.kind, count: p.count, ts: p.ts, reason: p.reason });
    p.count = 0;
    p.lastEmit = now;
  }

  private emit(a: { migration: string; kind: AnomalyKind; count: number; ts: Picos; reason: string }): void {
    const ev: AnomalyEvent = { type: 'anomaly', migration: a.migration, ts: a.ts, kind: a.kind, count: a.count };
    if (a.reason) ev.reason = a.reason;
    this.sink(ev);
  }
}
