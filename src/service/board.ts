import type { Picos } from '../core/time.js';
import type {
  Convergence, Downtime, MigrationEnded, Outcome, PhaseEvent, PhaseName, Scenario, StreamSummary,
} from '../phases/events.js';

export interface PhaseView { phase: PhaseName; start: Picos; end?: Picos; uncertain?: string }
/** A pre-copy RAM pass that ended (from its `convergence` event). */
export interface PassView { iteration: number; start: Picos; duration: Picos; bytes: number; dirtyRate?: number }
export interface StallView { phase: PhaseName | 'transfer'; since: Picos; idle: Picos }

/** What the service knows about one migration (the dashboard's and the API's unit). */
export interface MigrationView {
  id: string;
  scenario: Scenario;
  source: string;
  destination: string;
  domain?: string;
  labels?: Record<string, string>;
  state: 'running' | 'ended';
  startedAt: Picos;
  /** Wire time of this migration's latest event (the stall detector's reference). */
  lastProgressAt: Picos;
  phase?: PhaseName;
  phases: PhaseView[];
  bytes?: number;
  rate?: number;
  pass?: number;
  passes: PassView[];
  convergence?: Omit<Convergence, 'type' | 'migration'>;
  switchover?: { ts: Picos; iterations: number; precopyBytes: number };
  downtime?: Omit<Downtime, 'type' | 'migration'>;
  stalled?: StallView;
  outcome?: Outcome;
  reason?: string;
  endedAt?: Picos;
  total?: Picos;
  stream?: StreamSummary;
}

/** Bounds: a capture cannot make the service keep unbounded state. */
const MAX_RUNNING = 1024;
const MAX_PASSES = 256;

/**
 * The migrations running now and the most recent ones that ended, built from phase
 * events alone (so it works the same whatever produced them).
 */
export class MigrationBoard {
  private readonly running = new Map<string, MigrationView>();
  private readonly recent: MigrationView[] = [];

  /** `onEvict`: a running migration dropped to stay within MAX_RUNNING (its end was never seen). */
  constructor(private readonly keepRecent = 50, private readonly onEvict: (id: string) => void = () => {}) {}

  get(id: string): MigrationView | undefined {
    return this.running.get(id) ?? this.recent.find((m) => m.id === id);
  }

  runningViews(): MigrationView[] { return [...this.running.values()]; }

  /** Running first (oldest first), then the ended ones, newest first. */
  all(): MigrationView[] { return [...this.running.values(), ...this.recent]; }

  /** Applies `ev`; returns the view it changed (undefined for capture-wide events). */
  apply(ev: PhaseEvent): MigrationView | undefined {
    if (ev.type === 'migration-started') {
      const view: MigrationView = {
        id: ev.migration, scenario: ev.scenario, source: ev.source, destination: ev.destination,
        state: 'running', startedAt: ev.ts, lastProgressAt: ev.ts, phases: [], passes: [],
      };
      if (ev.domain !== undefined) view.domain = ev.domain;
      if (ev.labels !== undefined) view.labels = ev.labels;
      if (this.running.size >= MAX_RUNNING) this.evictOldest();
      this.running.set(ev.migration, view);
      return view;
    }
    const view = this.running.get(ev.migration);
    if (!view) return undefined;
    switch (ev.type) {
      case 'phase-started':
        view.phase = ev.phase;
        view.phases.push({ phase: ev.phase, start: ev.ts });
        this.touch(view, ev.ts);
        break;
      case 'phase-ended': {
        const p = findLast(view.phases, (x) => x.phase === ev.phase && x.end === undefined);
        if (p) {
          p.end = ev.ts;
          if (ev.uncertain !== undefined) p.uncertain = ev.uncertain;
        } else {
          view.phases.push({ phase: ev.phase, start: ev.ts - ev.duration, end: ev.ts, ...(ev.uncertain !== undefined ? { uncertain: ev.uncertain } : {}) });
        }
        if (view.phase === ev.phase) delete view.phase;
        this.touch(view, ev.ts);
        break;
      }
      case 'progress':
        if (view.bytes === undefined || ev.bytes > view.bytes) this.touch(view, ev.ts);
        view.bytes = ev.bytes;
        view.rate = ev.rate;
        view.pass = ev.iteration;
        break;
      case 'convergence': {
        const pass: PassView = { iteration: ev.iteration, start: ev.passStart, duration: ev.passDuration, bytes: ev.passBytes };
        if (ev.dirtyRate !== undefined) pass.dirtyRate = ev.dirtyRate;
        if (view.passes.length < MAX_PASSES) view.passes.push(pass);
        if (ev.verdict !== undefined) {
          const { type: _t, migration: _m, ...rest } = ev;
          view.convergence = rest;
        }
        break;
      }
      case 'switchover':
        view.switchover = { ts: ev.ts, iterations: ev.iterations, precopyBytes: ev.precopyBytes };
        this.touch(view, ev.ts);
        break;
      case 'downtime': {
        const { type: _t, migration: _m, ...rest } = ev;
        view.downtime = rest;
        break;
      }
      case 'migration-ended':
        this.end(view, ev);
        break;
      default:
        break;
    }
    return view;
  }

  /** The stall detector's verdict (set or cleared). */
  setStalled(view: MigrationView, stall: StallView | undefined): void {
    if (stall) view.stalled = stall;
    else delete view.stalled;
  }

  private touch(view: MigrationView, ts: Picos): void {
    if (ts > view.lastProgressAt) view.lastProgressAt = ts;
    delete view.stalled;
  }

  private end(view: MigrationView, ev: MigrationEnded): void {
    view.state = 'ended';
    view.outcome = ev.outcome;
    view.endedAt = ev.ts;
    delete view.phase;
    delete view.stalled;
    if (ev.reason !== undefined) view.reason = ev.reason;
    if (ev.domain !== undefined) view.domain = ev.domain;
    if (ev.total !== undefined) view.total = ev.total;
    if (ev.stream !== undefined) view.stream = ev.stream;
    // The closing event holds every phase span: it settles lost or bounded markers.
    view.phases = Object.entries(ev.phases).map(([phase, s]) => {
      const p: PhaseView = { phase: phase as PhaseName, start: s.start, end: s.end };
      if (s.uncertain !== undefined) p.uncertain = s.uncertain;
      return p;
    }).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.running.delete(view.id);
    this.recent.unshift(view);
    if (this.recent.length > this.keepRecent) this.recent.length = this.keepRecent;
  }

  private evictOldest(): void {
    const oldest = this.running.values().next().value;
    if (!oldest) return;
    this.running.delete(oldest.id);
    this.onEvict(oldest.id);
  }
}

function findLast<T>(xs: T[], pred: (x: T) => boolean): T | undefined {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return xs[i];
  return undefined;
}
