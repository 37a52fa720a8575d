import { anomalyMessage, type AnomalyDef, type AnomalyKind } from '../core/anomaly.js';
import type { Picos } from '../core/time.js';
import type { Emit } from '../protocols/types.js';
import type { Endpoint } from '../decode/types.js';

/** Where anomalies accrue: a flow, or the dissector itself for packets without one. */
export interface AnomalySite {
  readonly id: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** Per code aggregates; null until the first anomaly (most flows have none). */
  anomalies: PendingAnomaly[] | null;
  anomalyDirty: boolean;
}

export interface PendingAnomaly {
  /** A constant of a code table: compared by identity on the hot path. */
  def: AnomalyDef;
  /** Count accumulated since the last emission. */
  count: number;
  ts: Picos;
  tsEnd: Picos;
}

/** For anomalies that belong to no connection (flowId -1). */
export const NO_ENDPOINT: Endpoint = Object.freeze({ ip: '', port: 0 });

/**
 * Aggregates repeated anomalies without losing a count: the first of each (site, code)
 * is emitted at once; later ones are summed and emitted on `flushDirty()` (the
 * Dissector calls it about once per second of wire time), when the site closes, and at
 * the end. `totals` always holds the exact sum per kind.
 * Allocation: none for a repeat; one small record for a new (site, code).
 */
export class AnomalyAggregator {
  readonly totals: Partial<Record<AnomalyKind, number>> = {};
  private dirty: AnomalySite[] = [];

  constructor(private readonly emit: Emit) {}

  report(site: AnomalySite, def: AnomalyDef, count: number, ts: Picos): void {
    this.totals[def.kind] = (this.totals[def.kind] ?? 0) + count;
    let list = site.anomalies;
    if (list === null) list = site.anomalies = [];
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (p.def === def) {
        if (p.count === 0) p.ts = ts;
        p.count += count;
        p.tsEnd = ts;
        if (!site.anomalyDirty) { site.anomalyDirty = true; this.dirty.push(site); }
        return;
      }
    }
    list.push({ def, count: 0, ts, tsEnd: ts });
    this.send(site, def, count, ts, ts);
  }

  /** Emit everything accumulated for one site (a flow that is closing). */
  flush(site: AnomalySite): void {
    const list = site.anomalies;
    site.anomalyDirty = false;
    if (list === null) return;
    for (const p of list) {
      if (p.count > 0) {
        this.send(site, p.def, p.count, p.ts, p.tsEnd);
        p.count = 0;
      }
    }
  }

  flushDirty(): void {
    const sites = this.dirty;
    if (sites.length === 0) return;
    this.dirty = [];
    for (const s of sites) if (s.anomalyDirty) this.flush(s);
  }

  private send(site: AnomalySite, def: AnomalyDef, count: number, ts: Picos, tsEnd: Picos): void {
    this.emit(anomalyMessage(def, count, ts, tsEnd, site.id, site.client, site.server));
  }
}
