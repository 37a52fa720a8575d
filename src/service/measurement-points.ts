import type { ClockOffsetEvent, MpStatusEvent } from '../agent/aggregate.js';
import type { Picos } from '../core/time.js';

/** An aggregator's own event: a clock-offset estimate or an MP going silent / coming back. */
export type MpEvent = ClockOffsetEvent | MpStatusEvent;

/** What the service knows about one measurement point (`serve --subscribe`). */
export interface MeasurementPointView {
  mp: string;
  status: MpStatusEvent['status'];
  /** Wire time (reference clock) of the MP's latest event. */
  since: Picos;
  /** The latest clock-offset estimate against the reference MP (none for the reference itself). */
  clock?: Omit<ClockOffsetEvent, 'type' | 'migration' | 'mp'>;
}

/** MPs tracked at most: names come from the records, so a stream cannot make this grow without bound. */
const MAX_MPS = 1024;

/** The measurement points an aggregator reported, from its events alone. */
export class MeasurementPointBoard {
  private readonly mps = new Map<string, MeasurementPointView>();
  reference: string | undefined;

  apply(ev: MpEvent): MeasurementPointView | undefined {
    let view = this.mps.get(ev.mp);
    if (view === undefined) {
      if (this.mps.size >= MAX_MPS) return undefined;
      view = { mp: ev.mp, status: 'live', since: ev.ts };
      this.mps.set(ev.mp, view);
    }
    view.since = ev.ts;
    if (ev.type === 'mp-status') view.status = ev.status;
    else {
      const { type: _t, migration: _m, mp: _mp, ...clock } = ev;
      view.clock = clock;
      this.reference = ev.reference;
    }
    return view;
  }

  all(): MeasurementPointView[] { return [...this.mps.values()]; }
}
