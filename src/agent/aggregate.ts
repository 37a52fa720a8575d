import type { Picos } from '../core/time.js';
import { PhaseEngine, type EngineSummary, type HostRoles } from '../phases/engine.js';
import type { PhaseEvent, PhaseName } from '../phases/events.js';
import type { ProtocolMessage } from '../protocols/types.js';
import type { ClockOffset } from './clock-offset.js';
import { MpMerger, type MergeCounts, type MergeOptions } from './merge.js';
import type { MpRecord } from './records.js';

/** The estimate of one MP's clock offset to the reference MP (src/agent/clock-offset.ts). */
export interface ClockOffsetEvent extends ClockOffset {
  type: 'clock-offset';
  migration: '';
  /** Merged wire time (reference clock) when the estimate was made. */
  ts: Picos;
  /** Whether the MP's timestamps are being shifted by it (--correct-clocks). */
  corrected: boolean;
}

/**
 * An MP went silent past the timeout (stops holding the merge back) or came back
 * (wall-clock decisions), or sent its end record (its source is exhausted).
 */
export interface MpStatusEvent {
  type: 'mp-status';
  migration: '';
  ts: Picos;
  mp: string;
  status: 'silent' | 'live' | 'ended';
}

export type AggregatorEvent = PhaseEvent | ClockOffsetEvent | MpStatusEvent;

export interface AggregationOptions extends MergeOptions {
  onEvent: (ev: AggregatorEvent) => void;
  /** Every merged protocol message, before the phase engine sees it, with its MP. */
  onMessage?: (msg: ProtocolMessage, mp: string) => void;
  hosts?: HostRoles;
  labels?: Record<string, string>;
}

export interface AggregationSummary extends EngineSummary {
  merge: MergeCounts;
  /** Messages the phase engine could not take (malformed, not from an agent of ours). */
  rejectedMessages: number;
  offsets: ClockOffset[];
  reference?: string;
  /** Segment sightings: total, paired into samples, never paired, retransmitted. */
  sightings?: { sightings: number; paired: number; expired: number; ambiguous: number; evicted: number };
}

/**
 * Records of all MPs → merge → one phase engine → events, with each phase's clock
 * error when its markers came from MPs with different clocks. The NATS aggregator and
 * `analyze --mp-from-file` both drive this.
 */
export class Aggregation {
  readonly merger: MpMerger;
  private readonly engine: PhaseEngine;
  /** MP of the message being pushed into the engine (the marker of any event it raises). */
  private current = '';
  private readonly startedBy = new Map<string, string>();
  private rejected = 0;

  constructor(private readonly opts: AggregationOptions) {
    this.engine = new PhaseEngine({ onEvent: (ev) => this.phaseEvent(ev), hosts: opts.hosts ?? {}, labels: opts.labels ?? {} });
    this.merger = new MpMerger((msg, mp) => {
      opts.onMessage?.(msg, mp);
      this.current = mp;
      try {
        this.engine.push(msg);
      } catch {
        // A message that passed the record check but not the engine (not from our
        // agents): counted, the run goes on.
        this.rejected++;
      }
    }, (o) => opts.onEvent({
      type: 'clock-offset', migration: '', ts: this.now(), corrected: opts.correctClocks === true, ...o,
    }), opts, (mp) => opts.onEvent({ type: 'mp-status', migration: '', ts: this.now(), mp, status: 'ended' }));
  }

  record(r: MpRecord): void {
    this.merger.record(r);
  }

  silent(mp: string): void {
    // An MP that ended is expected to be quiet.
    if (this.merger.hasEnded(mp)) return;
    this.opts.onEvent({ type: 'mp-status', migration: '', ts: this.now(), mp, status: 'silent' });
    this.merger.silent(mp);
  }

  /** A silent MP sends again (the merge takes it back on its next record by itself). */
  live(mp: string): void {
    if (this.merger.hasEnded(mp)) return;
    this.opts.onEvent({ type: 'mp-status', migration: '', ts: this.now(), mp, status: 'live' });
  }

  finish(): AggregationSummary {
    this.merger.finish();
    this.current = '';
    const s: AggregationSummary = {
      ...this.engine.end(), merge: { ...this.merger.counts }, offsets: this.merger.offsets(), rejectedMessages: this.rejected,
    };
    const ref = this.merger.referenceMp;
    if (ref !== undefined) s.reference = ref;
    const est = this.merger.estimator;
    if (est) s.sightings = { ...est.counts };
    return s;
  }

  /** Wire time for events of the aggregator's own: the merge's, or before any release the latest sighting's. */
  private now(): Picos {
    const t = this.merger.releasedUpTo;
    return t > 0n ? t : this.merger.estimator?.latestTs ?? 0n;
  }

  private phaseEvent(ev: PhaseEvent): void {
    if (ev.type === 'phase-started') this.startedBy.set(`${ev.migration}/${ev.phase}`, this.current);
    else if (ev.type === 'phase-ended') {
      const err = this.clockError(ev.migration, ev.phase, this.current);
      if (err !== undefined) ev.clockError = err;
    } else if (ev.type === 'migration-ended') {
      for (const [name, span] of Object.entries(ev.phases)) {
        const err = this.clockError(ev.migration, name as PhaseName, undefined);
        if (err !== undefined && span) span.clockError = err;
        this.startedBy.delete(`${ev.migration}/${name}`);
      }
    }
    this.opts.onEvent(ev);
  }

  private readonly endedBy = new Map<string, string>();

  /**
   * ± on a duration whose start marker came from one MP and end marker from another:
   * each MP's offset bound (the reference's is 0), plus, when clocks are not corrected,
   * the offset between the two clocks itself.
   */
  private clockError(migration: string, phase: PhaseName, endMp: string | undefined): Picos | undefined {
    const key = `${migration}/${phase}`;
    if (endMp !== undefined) this.endedBy.set(key, endMp);
    const end = endMp ?? this.endedBy.get(key);
    if (endMp === undefined) this.endedBy.delete(key);
    const start = this.startedBy.get(key);
    if (start === undefined || end === undefined || start === end || start === '' || end === '') return undefined;
    const a = this.merger.offsetOf(start);
    const b = this.merger.offsetOf(end);
    const ref = this.merger.referenceMp;
    // An MP with no estimate yet (no traffic shared with the reference): no bound to give.
    if ((a === undefined && start !== ref) || (b === undefined && end !== ref)) return undefined;
    let err = (a?.bound ?? 0n) + (b?.bound ?? 0n);
    if (!this.opts.correctClocks) {
      const d = (b?.offset ?? 0n) - (a?.offset ?? 0n);
      err += d < 0n ? -d : d;
    }
    return err;
  }
}
