import { channels } from '../core/diagnostics.js';
import { PS_PER_S, type Picos } from '../core/time.js';
import type { AnomalyFields } from '../core/anomaly.js';
import type { AnomalyEvent, PhaseEvent } from './events.js';
import type { Anomaly, AnomalyKind } from '../protocols/types.js';

/** Repeats of one anomaly code within this much wire time are folded into one event. */
const FOLD_WINDOW: Picos = PS_PER_S;

interface Pending {
  migration: string; kind: AnomalyKind; code: string; reason: string;
  count: number; ts: Picos; lastEmit: Picos;
  /** Fields of the folded message while the fold holds exactly one. */
  fields: AnomalyFields | undefined;
}

/**
 * Anomalies become `anomaly` events without flooding the stream: the first of a code
 * (per migration) is emitted at once, repeats within a second of wire time are counted
 * and emitted as one event when the window passes or at the end. Every code keeps its
 * own events, so no code hides behind another of the same kind. Counts are never
 * dropped: the sum over the events equals the sum over the messages.
 *
 * Every anomaly, whichever stage raised it and whichever path decoded it (this thread
 * or decode workers: diagnostics_channel does not cross threads), passes here once, on
 * the main thread: the one place it is published on `migscope:anomaly`.
 */
export class AnomalyAggregator {
  private readonly pending = new Map<string, Pending>();
  readonly totals: Partial<Record<AnomalyKind, number>> = {};
  /** Totals per code, in order of first appearance. */
  readonly codes: Record<string, number> = {};

  constructor(private readonly sink: (ev: PhaseEvent) => void) {}

  add(msg: Anomaly, migration: string): void {
    if (channels.anomaly.hasSubscribers) channels.anomaly.publish(msg);
    this.totals[msg.kind] = (this.totals[msg.kind] ?? 0) + msg.count;
    this.codes[msg.code] = (this.codes[msg.code] ?? 0) + msg.count;
    const key = `${migration}|${msg.code}`;
    const p = this.pending.get(key);
    if (!p) {
      this.pending.set(key, {
        migration, kind: msg.kind, code: msg.code, reason: msg.reason, count: 0, ts: msg.ts, lastEmit: msg.ts, fields: undefined,
      });
      this.emit(migration, msg.kind, msg.code, msg.reason, msg.count, msg.ts, msg.fields);
      return;
    }
    if (p.count === 0) { p.ts = msg.ts; p.fields = msg.fields; } else p.fields = undefined;
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
    this.emit(p.migration, p.kind, p.code, p.reason, p.count, p.ts, p.fields);
    p.count = 0;
    p.fields = undefined;
    p.lastEmit = now;
  }

  private emit(
    migration: string, kind: AnomalyKind, code: string, reason: string, count: number, ts: Picos, fields: AnomalyFields | undefined,
  ): void {
    const ev: AnomalyEvent = { type: 'anomaly', migration, ts, kind, code, count };
    if (reason) ev.reason = reason;
    if (fields !== undefined) ev.fields = fields;
    this.sink(ev);
  }
}
