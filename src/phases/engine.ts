import { anomalyMessage } from '../core/anomaly.js';
import { channels } from '../core/diagnostics.js';
import { PS_PER_US, type Picos } from '../core/time.js';
import { DEFAULT_DOWNTIME_LIMIT } from './convergence.js';
import type { AnomalyKind, ProtocolMessage } from '../protocols/types.js';
import { AnomalyAggregator } from './anomalies.js';
import { EngineContext, type HostRoles, type MigrationRecord } from './context.js';
import { DowntimeTracker } from './downtime.js';
import type { PhaseEvent } from './events.js';
import { KvmTracker } from './kvm.js';
import { OpenStackTracker } from './openstack.js';
import { RoleInference, type InferredRoles } from './roles.js';

export type { HostRoles, MigrationRecord } from './context.js';
export type { InferredRoles } from './roles.js';

const NO_HOST = Object.freeze({ ip: '', port: 0 });

export interface PhaseEngineOptions {
  onEvent: (ev: PhaseEvent) => void;
  /** `--hosts` overrides of the inferred roles. */
  hosts?: HostRoles;
  /** `--label k=v`: copied onto every migration-started event. */
  labels?: Record<string, string>;
  /** The hypervisor's maximum downtime (ms), for the convergence verdict; default 300 (QEMU's). */
  downtimeLimitMs?: number;
}

export interface EngineSummary {
  migrations: MigrationRecord[];
  anomalies: Partial<Record<AnomalyKind, number>>;
  /** Anomaly totals per stable code (docs/anomalies.md). */
  anomalyCodes: Record<string, number>;
  roles: InferredRoles;
  messages: number;
  firstTs?: Picos;
  lastTs?: Picos;
}

/**
 * Protocol messages in (wire-timestamp order), phase events out, synchronously: every
 * event leaves while the message that is its marker is being pushed.
 */
export class PhaseEngine {
  private readonly ctx: EngineContext;
  private readonly kvm: KvmTracker;
  private readonly openstack: OpenStackTracker;
  private readonly downtime = new DowntimeTracker();
  private readonly anomalies: AnomalyAggregator;
  private readonly roles = new RoleInference();
  private readonly hosts: HostRoles;
  private messages = 0;
  private firstTs?: Picos;
  private lastTs?: Picos;
  private ended?: EngineSummary;

  constructor(opts: PhaseEngineOptions) {
    const sink = (ev: PhaseEvent): void => {
      if (ev.type === 'migration-started') this.roles.migration(ev.source, ev.destination);
      if (ev.type === 'migration-ended') this.anomalies.flush(ev.migration);
      opts.onEvent(ev);
      if (channels.event.hasSubscribers) channels.event.publish(ev);
    };
    this.hosts = opts.hosts ?? {};
    this.anomalies = new AnomalyAggregator(sink);
    this.ctx = new EngineContext(sink, this.hosts, this.downtime, opts.labels);
    this.ctx.shed = (def, ts) => this.anomalies.add(anomalyMessage(def, 1, ts, ts, -1, NO_HOST, NO_HOST), '');
    this.downtime.shed = this.ctx.shed;
    this.kvm = new KvmTracker(this.ctx, opts.downtimeLimitMs !== undefined
      ? BigInt(Math.round(opts.downtimeLimitMs * 1000)) * PS_PER_US : DEFAULT_DOWNTIME_LIMIT);
    this.openstack = new OpenStackTracker(this.ctx);
  }

  push(msg: ProtocolMessage): void {
    this.messages++;
    if (this.kvm.hasDeferred) this.kvm.flushDeferred(msg);
    this.firstTs ??= msg.ts;
    if (this.lastTs === undefined || msg.ts > this.lastTs) this.lastTs = msg.ts;
    switch (msg.protocol) {
      case 'tcp':
        if (msg.kind === 'syn') this.roles.service(msg.dst.ip, msg.dst.port);
        this.kvm.onTcp(msg);
        this.openstack.onTcp(msg);
        break;
      case 'libvirt':
        this.kvm.onLibvirt(msg);
        break;
      case 'qemu':
        this.kvm.onQemu(msg);
        break;
      case 'http':
        this.openstack.onHttp(msg);
        break;
      case 'amqp':
        this.openstack.onAmqp(msg);
        break;
      case 'icmp':
        if (msg.kind === 'echo-request') this.roles.pingClient(msg.src.ip);
        this.downtime.onEcho(msg);
        break;
      case 'arp':
        this.downtime.onAnnounce(msg);
        break;
      case 'anomaly': {
        const m = this.ctx.flowOwner.get(msg.flowId);
        if (m && msg.kind === 'tcp-hole') m.holeFlows.add(msg.flowId);
        this.anomalies.add(msg, m?.announced ? m.id : '');
        break;
      }
    }
  }

  /** End of input: migrations still open end as 'incomplete'; folded anomalies flush. */
  end(): EngineSummary {
    if (this.ended) return this.ended;
    const ts = this.lastTs ?? 0n;
    this.kvm.flushDeferred();
    for (const m of [...this.ctx.open]) {
      if (!m.recognised) {
        this.ctx.discard(m);
      } else if (m.outcome === undefined && (m.ended('finish') || (m.qemuOnly && m.streamEof))) {
        // The VM runs at the destination (finish3 answered, or a QMP-driven stream
        // reached QEMU_VM_EOF): only closing markers were lost. Their phases end at the
        // end of the capture, flagged as upper bounds.
        for (const [name, span] of m.phases) {
          if (span.end === undefined) {
            m.endPhase(name, ts, 'end marker not captured before the end of the capture (duration is an upper bound)');
          }
        }
        this.ctx.close(m, ts);
      } else {
        this.ctx.close(m, ts, 'end of input before the migration finished');
      }
    }
    this.anomalies.flush();
    const summary: EngineSummary = {
      migrations: this.ctx.done,
      anomalies: { ...this.anomalies.totals },
      anomalyCodes: { ...this.anomalies.codes },
      roles: this.roles.snapshot(this.hosts),
      messages: this.messages,
    };
    if (this.firstTs !== undefined) summary.firstTs = this.firstTs;
    if (this.lastTs !== undefined) summary.lastTs = this.lastTs;
    this.ended = summary;
    return summary;
  }
}
