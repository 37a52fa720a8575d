import type { Picos } from '../core/time.js';
import type { Endpoint } from '../core/message.js';
import type { MultifdAccount } from './multifd.js';
import {
  PHASES, type EncryptedSummary, type Inference, type MigrationEnded, type Outcome, type PhaseEvent, type PhaseName, type Scenario, type StreamSummary,
} from './events.js';

/** Phase order used to close phases whose end marker was lost (post-migration excluded:
 *  it follows the libvirt part, which nova awaits before calling it). */
const CASCADE: readonly PhaseName[] = [
  'authentication', 'initialization', 'remote-connect', 'preparation', 'transfer', 'finish', 'cleanup',
];
/** Phases we may reconstruct as a bound when both of their markers were lost. */
const FILLABLE: ReadonlySet<PhaseName> = new Set(['preparation', 'transfer', 'finish']);

export interface PhaseSpan {
  start?: Picos;
  end?: Picos;
  uncertain?: string;
  /** The end is a bound (its own marker was lost), not a measurement. */
  endIsBound?: boolean;
  startInferred?: Inference;
  endInferred?: Inference;
}

export type EventSink = (ev: PhaseEvent) => void;

/**
 * One migration's state: its timeline and what it has emitted. Events are emitted
 * straight away once the migration is announced (source, destination known and the
 * traffic recognised as a migration); before that they queue and are flushed, in
 * order, right after `migration-started`.
 */
export class Migration {
  id = '';
  announced = false;
  recognised = false;
  closed = false;
  source?: string;
  destination?: string;
  domain?: string;
  domainUuid?: string;
  /** nova instance uuid (= libvirt domain uuid). */
  instanceUuid?: string;
  /** Publisher of the nova RPCs (the source compute), when seen before libvirt. */
  novaSource?: string;
  outcome?: Exclude<Outcome, 'completed' | 'incomplete'>;
  reason?: string;
  readonly phases = new Map<PhaseName, PhaseSpan>();
  stream?: StreamSummary;
  streamEof = false;
  /** The capture cut the stream's payload: QEMU_VM_EOF cannot be seen, its absence proves nothing. */
  streamCut = false;
  downtime?: Picos;
  lostPings?: number;
  libvirtFlow?: number;
  streamFlow?: number;
  /** The destination end of the main stream: multifd channels connect to it too. */
  streamServer?: Endpoint;
  /** Post-copy's span inside Transfer (switch → QEMU_VM_EOF). */
  postcopyStart?: Picos;
  postcopyEnd?: Picos;
  /** Page requests the destination sent on the return path. */
  postcopyRequests?: number;
  /** The stream connection carries TLS (its records are not decoded). */
  encryptedStream = false;
  /** The stream was encrypted (TLS): its visible figures. */
  encrypted?: EncryptedSummary;
  /** The migration's multifd channels, once one was seen. */
  multifd?: MultifdAccount;
  libvirtDone = false;
  /** The libvirt connection is TLS: its phases come from the RPC round trips' records. */
  libvirtTls = false;
  /** The QEMU stream travels inside the libvirt connection (VIR_MIGRATE_TUNNELLED). */
  tunnelled = false;
  /** auto-converge's throttle, from libvirt job stats replies on the captured link. */
  cpuThrottle?: { last: number; max: number; samples: number };
  /** A QEMU stream seen without any libvirt migration (QMP-driven `migrate`): its
   *  timeline is the Transfer phase alone and it closes with the stream. */
  qemuOnly = false;
  /** nova rolled the migration back (rollback_live_migration_at_destination). */
  rollbackSeen = false;
  migrateUri?: { host: string; port: number };
  /** When the stream closed before QEMU_VM_EOF (a QMP-driven migration ends there). */
  closeAt?: Picos;
  /** Closed before QEMU_VM_EOF: the decoder's cut summary is still to come. */
  awaitingCut = false;
  /** Flows on which a TCP hole was reported: markers on them may be lost. */
  readonly holeFlows = new Set<number>();
  private readonly queue: PhaseEvent[] = [];

  constructor(
    public scenario: Scenario,
    private readonly sink: EventSink,
    private readonly nextId: () => string,
    private readonly labels?: Record<string, string>,
  ) {}

  emit(ev: PhaseEvent): void {
    if (this.closed) return;
    if (this.announced) {
      ev.migration = this.id;
      this.sink(ev);
    } else {
      this.queue.push(ev);
    }
  }

  /** Emits migration-started (ts = first marker) and whatever was queued. */
  announce(): void {
    if (this.announced) return;
    this.announced = true;
    this.recognised = true;
    this.id = this.nextId();
    const ts = this.firstMarker() ?? 0n;
    const started: PhaseEvent = {
      type: 'migration-started', migration: this.id, ts, scenario: this.scenario,
      source: this.source ?? '', destination: this.destination ?? '',
    };
    if (this.domain !== undefined) started.domain = this.domain;
    if (this.labels && Object.keys(this.labels).length > 0) started.labels = { ...this.labels };
    this.sink(started);
    for (const ev of this.queue.splice(0)) {
      ev.migration = this.id;
      this.sink(ev);
    }
  }

  canAnnounce(): boolean {
    return this.recognised && this.source !== undefined && this.destination !== undefined;
  }

  firstMarker(): Picos | undefined {
    let first: Picos | undefined;
    for (const s of this.phases.values()) {
      if (s.start !== undefined && (first === undefined || s.start < first)) first = s.start;
    }
    return first;
  }

  has(phase: PhaseName): boolean { return this.phases.get(phase)?.start !== undefined; }
  ended(phase: PhaseName): boolean { return this.phases.get(phase)?.end !== undefined; }
  isOpen(phase: PhaseName): boolean { return this.has(phase) && !this.ended(phase); }

  /** A phase starts at its marker; earlier phases still open lost their end marker. */
  beginPhase(phase: PhaseName, ts: Picos, uncertain?: string, inferred?: Inference): void {
    if (this.has(phase)) return;
    this.closeEarlier(phase, ts);
    const span: PhaseSpan = { start: ts };
    if (uncertain !== undefined) span.uncertain = uncertain;
    if (inferred !== undefined) span.startInferred = inferred;
    this.phases.set(phase, span);
    this.emit(inferred ? { type: 'phase-started', migration: '', ts, phase, inferred } : { type: 'phase-started', migration: '', ts, phase });
  }

  /** The phase's end, inferred (an encrypted stream). */
  endPhaseInferred(phase: PhaseName, ts: Picos, inferred: Inference): void {
    const span = this.phases.get(phase);
    if (span && span.end === undefined) span.endInferred = inferred;
    this.endPhase(phase, ts);
  }

  /** A phase ends at its marker; if its start was never seen, it starts at the bound. */
  endPhase(phase: PhaseName, ts: Picos, uncertain?: string): void {
    if (this.ended(phase)) return;
    if (!this.has(phase)) {
      // Earlier phases still open end at this marker first; the start is then bounded
      // by the latest marker known before it.
      this.closeEarlier(phase, ts);
      const bound = this.previousBound(phase) ?? ts;
      this.beginPhase(phase, bound, `start marker of ${phase} not captured; start bounded by the previous marker (duration is an upper bound)`);
    }
    const span = this.phases.get(phase)!;
    span.end = ts;
    if (uncertain !== undefined) {
      span.uncertain = span.uncertain ? `${span.uncertain}; ${uncertain}` : uncertain;
      span.endIsBound = true;
    }
    const ev: PhaseEvent = { type: 'phase-ended', migration: '', ts, phase, duration: ts - span.start! };
    if (span.uncertain !== undefined) ev.uncertain = span.uncertain;
    if (span.endInferred !== undefined) ev.inferred = span.endInferred;
    this.emit(ev);
  }

  /** The latest marker actually seen before `phase`: earlier phases' starts and their
   *  ends unless those are themselves bounds (a start bounded by a bound is no bound). */
  private previousBound(phase: PhaseName): Picos | undefined {
    const idx = PHASES.indexOf(phase);
    let best: Picos | undefined;
    for (let i = 0; i < idx; i++) {
      const span = this.phases.get(PHASES[i]!);
      if (!span) continue;
      for (const t of [span.start, span.endIsBound ? undefined : span.end]) {
        if (t !== undefined && (best === undefined || t > best)) best = t;
      }
    }
    return best;
  }

  private closeEarlier(phase: PhaseName, ts: Picos): void {
    const idx = CASCADE.indexOf(phase);
    if (idx < 0) return;
    const libvirtSeen = this.has('remote-connect');
    for (let i = 0; i < idx; i++) {
      const p = CASCADE[i]!;
      if (this.isOpen(p)) {
        this.endPhase(p, ts, `end marker of ${p} not captured; ended at the ${phase} marker (duration is an upper bound)`);
      } else if (!this.has(p) && libvirtSeen && this.outcome === undefined && FILLABLE.has(p)) {
        // Both markers lost while later ones arrived: report the phase as a bound.
        const bound = this.previousBound(p) ?? ts;
        this.beginPhase(p, bound, `no marker of ${p} captured; bounded by its neighbours (duration is an upper bound)`);
        this.endPhase(p, ts);
      }
    }
  }

  fail(outcome: 'failed' | 'cancelled', reason: string): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.reason = reason;
  }

  /** Emits migration-ended and closes the migration (later markers are ignored). */
  finish(ts: Picos, incompleteReason?: string): MigrationEnded {
    if (!this.announced) this.announce();
    const phases: MigrationEnded['phases'] = {};
    const open: PhaseName[] = [];
    for (const [name, s] of this.phases) {
      if (s.start !== undefined && s.end !== undefined) {
        const p: NonNullable<MigrationEnded['phases'][PhaseName]> = { start: s.start, end: s.end };
        if (s.uncertain !== undefined) p.uncertain = s.uncertain;
        if (s.startInferred || s.endInferred) {
          p.inferred = {
            ...(s.startInferred ? { start: s.startInferred } : {}), ...(s.endInferred ? { end: s.endInferred } : {}),
          };
        }
        phases[name] = p;
      } else open.push(name);
    }
    let outcome: Outcome = this.outcome ?? 'completed';
    let reason = this.reason;
    if (incompleteReason !== undefined && this.outcome === undefined) {
      outcome = 'incomplete';
      reason = incompleteReason + (open.length > 0 ? ` (open phases: ${open.join(', ')})` : '');
    }
    const ev: MigrationEnded = { type: 'migration-ended', migration: this.id, ts, outcome, phases };
    if (reason !== undefined) ev.reason = reason;
    if (this.domain !== undefined) ev.domain = this.domain;
    if (this.domainUuid !== undefined) ev.domainUuid = this.domainUuid;
    const rc = phases['remote-connect'];
    const cleanup = phases.cleanup;
    if (rc && cleanup) ev.libvirtTotal = cleanup.end - rc.start;
    // Total: first marker to last (OpenStack: authentication → post-migration; KVM: =
    // libvirtTotal; a failed migration: up to its last phase). Unknown while incomplete.
    const spans = Object.values(phases);
    if (outcome !== 'incomplete' && spans.length > 0) {
      const first = spans.reduce((a, p) => (p.start < a ? p.start : a), spans[0]!.start);
      const last = spans.reduce((a, p) => (p.end > a ? p.end : a), spans[0]!.end);
      ev.total = last - first;
    }
    if (this.stream) ev.stream = this.multifd ? this.multifd.summarise(this.stream) : { ...this.stream };
    if (ev.stream && this.cpuThrottle) ev.stream.cpuThrottle = { ...this.cpuThrottle };
    if (ev.stream && (this.postcopyRequests !== undefined || ev.stream.postcopyBytes !== undefined)) {
      ev.stream.postcopyRequests = this.postcopyRequests ?? 0;
    }
    if (this.downtime !== undefined) ev.downtime = this.downtime;
    if (this.encrypted) ev.encrypted = { ...this.encrypted };
    if (this.postcopyStart !== undefined && this.postcopyEnd !== undefined) ev.postcopy = { start: this.postcopyStart, end: this.postcopyEnd };
    this.emit(ev);
    this.closed = true;
    return ev;
  }
}
