import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { toSeconds } from '../core/time.js';
import { PHASES, type PhaseEvent, type PhaseName } from '../phases/events.js';
import type { MigrationView } from './board.js';
import type { CaptureSnapshot } from './items.js';
import type { MpEvent } from './measurement-points.js';

/** Phase durations in the study span 0.5 ms (remote connect) to minutes (transfer of a loaded xlarge). */
const PHASE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300, 600];

type RunningLabels = 'migration' | 'scenario' | 'source' | 'destination' | 'domain';

/**
 * The Prometheus metrics of `serve` (docs/metrics.md maps them to KubeVirt's and the
 * libvirt exporter's names). Updated from phase events and capture snapshots only.
 */
export class ServeMetrics {
  readonly registry = new Registry();
  private readonly phaseDuration: Histogram<'phase' | 'scenario'>;
  private readonly phaseUncertain: Counter<'phase'>;
  private readonly started: Counter<'scenario'>;
  private readonly ended: Counter<'scenario' | 'outcome'>;
  private readonly inPhase: Gauge<'phase'>;
  private readonly running: Gauge;
  private readonly streamBytes: Counter<'scenario'>;
  private readonly transferred: Gauge<RunningLabels>;
  private readonly pass: Gauge<RunningLabels>;
  private readonly wireRate: Gauge<RunningLabels>;
  private readonly dirtyRate: Gauge<RunningLabels>;
  private readonly etaSeconds: Gauge<RunningLabels>;
  private readonly stalled: Gauge<RunningLabels>;
  private readonly lastDowntime: Gauge;
  private readonly lastPause: Gauge;
  private readonly lastReconvergence: Gauge;
  private readonly lastTotal: Gauge;
  private readonly alerts: Counter<'kind' | 'verdict'>;
  private readonly anomalies: Counter<'kind'>;
  private readonly events: Counter<'type'>;
  private readonly packets: Counter<'source'>;
  private readonly bytes: Counter<'source'>;
  private readonly ringDrops: Counter<'source'>;
  private readonly kernelDrops: Counter<'source'>;
  private readonly frameLoss: Counter;
  private readonly clockOffset: Gauge<'mp' | 'reference'>;
  private readonly clockSpread: Gauge<'mp' | 'reference'>;
  private readonly clockBound: Gauge<'mp' | 'reference'>;
  private readonly mpSilent: Gauge<'mp'>;
  private readonly mpEnded: Gauge<'mp'>;
  readonly clients: Gauge<'endpoint'>;
  readonly clientsDropped: Counter<'endpoint' | 'reason'>;
  private readonly captureSeen = new Map<string, CaptureSnapshot>();
  /** Label sets of the per-migration series, removed when the migration ends. */
  private readonly runningLabels = new Map<string, Record<RunningLabels, string>>();
  /** Which migration's current phase is counted in migrations_in_phase. */
  private readonly counted = new Map<string, PhaseName>();

  constructor(build: { version: string }) {
    const registers = [this.registry];
    const runningNames: RunningLabels[] = ['migration', 'scenario', 'source', 'destination', 'domain'];
    this.phaseDuration = new Histogram({
      name: 'migscope_phase_duration_seconds', help: 'Duration of each migration phase (the study\'s phases), measured between marker packets; bounded (uncertain) durations are left out',
      labelNames: ['phase', 'scenario'], buckets: PHASE_BUCKETS, registers,
    });
    this.phaseUncertain = new Counter({ name: 'migscope_phase_uncertain_total', help: 'Phases whose duration is only a bound (a marker packet was lost), not observed in the histogram', labelNames: ['phase'], registers });
    this.started = new Counter({ name: 'migscope_migrations_started_total', help: 'Migrations recognised on the wire', labelNames: ['scenario'], registers });
    this.ended = new Counter({ name: 'migscope_migrations_ended_total', help: 'Migrations ended, by outcome', labelNames: ['scenario', 'outcome'], registers });
    this.inPhase = new Gauge({ name: 'migscope_migrations_in_phase', help: 'Running migrations currently in each phase', labelNames: ['phase'], registers });
    for (const p of PHASES) this.inPhase.set({ phase: p }, 0);
    this.running = new Gauge({ name: 'migscope_migrations_running', help: 'Migrations started and not ended', registers });
    this.streamBytes = new Counter({ name: 'migscope_migration_stream_bytes_total', help: 'QEMU migration stream bytes of ended migrations', labelNames: ['scenario'], registers });
    this.transferred = new Gauge({ name: 'migscope_migration_transferred_bytes', help: 'Running migration: QEMU stream bytes sent so far', labelNames: runningNames, registers });
    this.pass = new Gauge({ name: 'migscope_migration_pass', help: 'Running migration: current RAM pass (pre-copy iteration)', labelNames: runningNames, registers });
    this.wireRate = new Gauge({ name: 'migscope_migration_wire_rate_bytes', help: 'Running migration: stream bytes per second over the last progress interval', labelNames: runningNames, registers });
    this.dirtyRate = new Gauge({ name: 'migscope_migration_dirty_rate_bytes', help: 'Running migration: estimated guest dirty rate (bytes/s) from successive pass sizes and durations', labelNames: runningNames, registers });
    this.etaSeconds = new Gauge({ name: 'migscope_migration_convergence_eta_seconds', help: 'Running migration: projected time to the switch-over (+Inf: will not converge)', labelNames: runningNames, registers });
    this.stalled = new Gauge({ name: 'migscope_migration_stalled', help: 'Running migration: 1 while no progress was seen for the stall time', labelNames: runningNames, registers });
    this.lastDowntime = new Gauge({ name: 'migscope_last_downtime_seconds', help: 'Last migration with a measured downtime: ICMP echo gap around the switch-over', registers });
    this.lastPause = new Gauge({ name: 'migscope_last_vm_pause_seconds', help: 'Last migration: VM pause as the stream shows it (switch-over to the end of stop-and-copy)', registers });
    this.lastReconvergence = new Gauge({ name: 'migscope_last_network_reconvergence_seconds', help: 'Last migration: destination RARP/gratuitous ARP to the first echo reply', registers });
    this.lastTotal = new Gauge({ name: 'migscope_last_migration_duration_seconds', help: 'Last ended migration: total migration time', registers });
    this.alerts = new Counter({ name: 'migscope_alerts_total', help: 'Alerts raised: convergence verdicts, stalls, downtimes', labelNames: ['kind', 'verdict'], registers });
    this.anomalies = new Counter({ name: 'migscope_anomalies_total', help: 'Anomalies counted (drops, TCP holes, unparsable messages …), by kind', labelNames: ['kind'], registers });
    this.events = new Counter({ name: 'migscope_events_total', help: 'Phase events received, by type', labelNames: ['type'], registers });
    this.packets = new Counter({ name: 'migscope_capture_packets_total', help: 'Packets captured or read', labelNames: ['source'], registers });
    this.bytes = new Counter({ name: 'migscope_capture_bytes_total', help: 'Captured bytes', labelNames: ['source'], registers });
    this.ringDrops = new Counter({ name: 'migscope_capture_ring_drops_total', help: 'Packets dropped because a decode ring was full', labelNames: ['source'], registers });
    this.kernelDrops = new Counter({ name: 'migscope_capture_kernel_drops_total', help: 'Packets dropped by the kernel or interface (pcap_stats)', labelNames: ['source'], registers });
    this.frameLoss = new Counter({ name: 'migscope_capture_frame_loss_total', help: 'DPMI measurement frames lost (sequence gaps)', registers });
    this.clockOffset = new Gauge({ name: 'migscope_clock_offset_seconds', help: 'Measurement point clock minus the reference MP\'s clock, estimated from TCP segments both saw (docs/clock-offsets.md)', labelNames: ['mp', 'reference'], registers });
    this.clockSpread = new Gauge({ name: 'migscope_clock_offset_spread_seconds', help: 'Scatter of the clock-offset samples (half the larger inter-quartile range of the two directions)', labelNames: ['mp', 'reference'], registers });
    this.clockBound = new Gauge({ name: 'migscope_clock_offset_bound_seconds', help: 'Guaranteed bound on the clock-offset error whatever the delay asymmetry: one-way delay + spread', labelNames: ['mp', 'reference'], registers });
    this.mpSilent = new Gauge({ name: 'migscope_measurement_point_silent', help: 'Measurement point: 1 while it sent nothing for the MP timeout (it no longer holds the merge back)', labelNames: ['mp'], registers });
    this.mpEnded = new Gauge({ name: 'migscope_measurement_point_ended', help: 'Measurement point: 1 once it sent its end record (its source is exhausted), 0 while it publishes', labelNames: ['mp'], registers });
    this.clients = new Gauge({ name: 'migscope_http_stream_clients', help: 'Connected live-stream clients', labelNames: ['endpoint'], registers });
    this.clientsDropped = new Counter({ name: 'migscope_http_stream_clients_dropped_total', help: 'Live-stream clients disconnected because they fell behind', labelNames: ['endpoint', 'reason'], registers });
    const info = new Gauge({ name: 'migscope_build_info', help: 'migscope build: version and Node.js', labelNames: ['version', 'nodejs'], registers });
    info.set({ version: build.version, nodejs: process.versions.node }, 1);
  }

  /** `view` is the migration after the board applied `ev`. */
  onEvent(ev: PhaseEvent, view: MigrationView | undefined): void {
    this.events.inc({ type: ev.type });
    switch (ev.type) {
      case 'migration-started':
        this.started.inc({ scenario: ev.scenario });
        this.running.inc();
        this.runningLabels.set(ev.migration, {
          migration: ev.migration, scenario: ev.scenario, source: ev.source, destination: ev.destination, domain: ev.domain ?? '',
        });
        break;
      case 'phase-started':
        this.setPhase(ev.migration, ev.phase);
        break;
      case 'phase-ended':
        if (ev.uncertain === undefined) this.phaseDuration.observe({ phase: ev.phase, scenario: view?.scenario ?? '' }, toSeconds(ev.duration));
        else this.phaseUncertain.inc({ phase: ev.phase });
        if (this.counted.get(ev.migration) === ev.phase) this.setPhase(ev.migration, undefined);
        break;
      case 'progress': {
        const l = this.runningLabels.get(ev.migration);
        if (!l) break;
        this.transferred.set(l, ev.bytes);
        this.pass.set(l, ev.iteration);
        this.wireRate.set(l, ev.rate);
        break;
      }
      case 'convergence': {
        if (ev.verdict === undefined || ev.dirtyRate === undefined) break;
        this.alerts.inc({ kind: 'convergence', verdict: ev.verdict });
        const l = this.runningLabels.get(ev.migration);
        if (!l) break;
        this.dirtyRate.set(l, ev.dirtyRate);
        this.etaSeconds.set(l, ev.verdict === 'will-not-converge' ? Infinity : ev.eta !== undefined ? toSeconds(ev.eta) : 0);
        break;
      }
      case 'stalled': {
        this.alerts.inc({ kind: 'stalled', verdict: ev.phase });
        const l = this.runningLabels.get(ev.migration);
        if (l) this.stalled.set(l, 1);
        break;
      }
      case 'downtime':
        this.alerts.inc({ kind: 'downtime', verdict: ev.reconvergence ? 'split' : 'echo-gap' });
        this.lastDowntime.set(toSeconds(ev.duration));
        if (ev.pause) this.lastPause.set(toSeconds(ev.pause.end - ev.pause.start));
        if (ev.reconvergence) this.lastReconvergence.set(toSeconds(ev.reconvergence.end - ev.reconvergence.start));
        break;
      case 'migration-ended': {
        const scenario = view?.scenario ?? this.runningLabels.get(ev.migration)?.scenario ?? '';
        this.ended.inc({ scenario, outcome: ev.outcome });
        if (ev.stream) this.streamBytes.inc({ scenario }, ev.stream.bytes);
        if (ev.stream?.pause && ev.downtime === undefined) this.lastPause.set(toSeconds(ev.stream.pause.end - ev.stream.pause.start));
        if (ev.total !== undefined) this.lastTotal.set(toSeconds(ev.total));
        this.setPhase(ev.migration, undefined);
        if (this.runningLabels.has(ev.migration)) this.running.dec();
        this.forget(ev.migration);
        break;
      }
      case 'anomaly':
        this.anomalies.inc({ kind: ev.kind }, ev.count);
        if (ev.kind === 'frame-loss') this.frameLoss.inc(ev.count);
        break;
      default:
        break;
    }
  }

  /** An aggregator's event (serve --subscribe): clock offsets and MP status. */
  onMpEvent(ev: MpEvent): void {
    this.events.inc({ type: ev.type });
    if (ev.type === 'mp-status') {
      this.mpSilent.set({ mp: ev.mp }, ev.status === 'silent' ? 1 : 0);
      this.mpEnded.set({ mp: ev.mp }, ev.status === 'ended' ? 1 : 0);
      return;
    }
    const l = { mp: ev.mp, reference: ev.reference };
    this.clockOffset.set(l, toSeconds(ev.offset));
    this.clockSpread.set(l, toSeconds(ev.spread));
    this.clockBound.set(l, toSeconds(ev.bound));
  }

  /** The board dropped a running migration whose end never came: drop its series too. */
  evicted(id: string): void {
    this.setPhase(id, undefined);
    if (this.runningLabels.has(id)) this.running.dec();
    this.forget(id);
  }

  /** A migration's progress resumed after a stall. */
  unstalled(id: string): void {
    const l = this.runningLabels.get(id);
    if (l) this.stalled.set(l, 0);
  }

  /** Cumulative counters → counter increments (a restarted source starts again from 0). */
  onCapture(s: CaptureSnapshot): void {
    const before = this.captureSeen.get(s.source) ?? { source: s.source, packets: 0, bytes: 0, ringDrops: 0, kernelDrops: 0 };
    const l = { source: s.source };
    const delta = (now: number, then: number): number => (now >= then ? now - then : now);
    this.packets.inc(l, delta(s.packets, before.packets));
    this.bytes.inc(l, delta(s.bytes, before.bytes));
    this.ringDrops.inc(l, delta(s.ringDrops, before.ringDrops));
    this.kernelDrops.inc(l, delta(s.kernelDrops, before.kernelDrops));
    this.captureSeen.set(s.source, { ...s });
  }

  private setPhase(id: string, phase: PhaseName | undefined): void {
    const was = this.counted.get(id);
    if (was !== undefined) this.inPhase.dec({ phase: was });
    if (phase === undefined) this.counted.delete(id);
    else {
      this.counted.set(id, phase);
      this.inPhase.inc({ phase });
    }
  }

  private forget(id: string): void {
    const l = this.runningLabels.get(id);
    if (!l) return;
    for (const g of [this.transferred, this.pass, this.wireRate, this.dirtyRate, this.etaSeconds, this.stalled]) g.remove(l);
    this.runningLabels.delete(id);
  }
}
