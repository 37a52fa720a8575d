import type { Picos } from '../core/time.js';
import type { AnomalyFields, AnomalyKind } from '../protocols/types.js';

/** Phase identifiers, in timeline order (DESIGN.md §4). */
export const PHASES = [
  'authentication',
  'initialization',
  'remote-connect',
  'preparation',
  'transfer',
  'finish',
  'cleanup',
  'post-migration',
] as const;
export type PhaseName = (typeof PHASES)[number];
/** Phase names as the study's tables print them (Table 5.1, Appendix A): every table and chart uses these. */
export const PHASE_TITLES: Readonly<Record<PhaseName, string>> = {
  authentication: 'Authentication',
  initialization: 'Initialize',
  'remote-connect': 'Remote connect',
  preparation: 'Preparation',
  transfer: 'Transfer',
  finish: 'Finish',
  cleanup: 'Cleanup',
  'post-migration': 'Post-migration',
};
export const KVM_PHASES: readonly PhaseName[] = ['remote-connect', 'preparation', 'transfer', 'finish', 'cleanup'];

export type Scenario = 'kvm' | 'openstack';
export type Outcome = 'completed' | 'failed' | 'cancelled' | 'incomplete';

/** A migration is keyed by (source host, destination host, domain). */
export interface MigrationKey {
  /** Stable id within one run, e.g. "m1". */
  id: string;
  source: string;
  destination: string;
  domain?: string;
  domainUuid?: string;
}

interface EventBase {
  /** Migration id (MigrationKey.id); "" for capture-wide events. */
  migration: string;
  /** Wire timestamp of the marker packet, picoseconds since the epoch. */
  ts: Picos;
}

export interface MigrationStarted extends EventBase {
  type: 'migration-started';
  scenario: Scenario;
  source: string;
  destination: string;
  domain?: string;
  labels?: Record<string, string>;
}
/**
 * A boundary inferred rather than seen (an encrypted stream: from the connection's
 * SYN/FIN and the TLS record timing): how, and how far the real boundary can be from it.
 */
export interface Inference { how: string; errorBound: Picos }
export interface PhaseStarted extends EventBase { type: 'phase-started'; phase: PhaseName; inferred?: Inference }
export interface PhaseEnded extends EventBase {
  type: 'phase-ended';
  phase: PhaseName;
  duration: Picos;
  /** Set when a marker was lost: the duration is a bound, not a measurement. */
  uncertain?: string;
  /** The end boundary was inferred (the start's inference is on phase-started). */
  inferred?: Inference;
  /**
   * ± ps on the duration when its start and end markers were seen by different
   * measurement points: their clock-offset uncertainty (set by src/agent's aggregator).
   */
  clockError?: Picos;
}
export interface Progress extends EventBase {
  type: 'progress';
  bytes: number;
  /** Bytes/s over the last progress interval. */
  rate: number;
  iteration: number;
  /** The source vCPUs' auto-converge throttle (percent), as last seen in libvirt job stats on the link. */
  throttle?: number;
}
export interface Switchover extends EventBase {
  type: 'switchover';
  iterations: number;
  precopyBytes: number;
  /** What ended pre-copy: stop-and-copy, or the switch to post-copy (the VM resumes on
   *  the destination, which pulls the rest of its RAM). */
  mechanism?: 'stop-and-copy' | 'postcopy';
}
/**
 * One part of the downtime, as the wire bounds it: measured from `start` to `end`
 * (marker packets); the true duration lies in [min, max] (docs/events.md).
 */
export interface DowntimePart { start: Picos; end: Picos; min: Picos; max: Picos }
export interface Downtime extends EventBase {
  type: 'downtime';
  /** Gap between the last echo reply before the switch-over and the first after it. */
  duration: Picos;
  /** Unanswered echo requests in that gap (the study's count × interval method). */
  lost: number;
  /** lost × the ping interval. */
  lostDuration: Picos;
  /** The VM pause as the stream shows it: switch-over (END(ram)) → end of stop-and-copy (EOF). */
  pause?: DowntimePart;
  /** End of stop-and-copy → the destination's first RARP / gratuitous ARP (state load, resume). */
  resume?: DowntimePart;
  /** Network re-convergence: that announcement → the first echo reply after the switch-over. */
  reconvergence?: DowntimePart;
  announce?: 'rarp' | 'gratuitous-arp';
}
/**
 * A pre-copy RAM pass ended (the next began, or the switch-over): its size and duration,
 * and from pass 2 on the convergence estimate (src/phases/convergence.ts): pass k
 * re-sends what the guest dirtied during pass k−1, so dirtyRate = passBytes(k) /
 * passDuration(k−1), wireRate = passBytes(k) / passDuration(k); pre-copy converges only
 * while dirtyRate < wireRate.
 */
export interface Convergence extends EventBase {
  type: 'convergence';
  /** The pass that ended. */
  iteration: number;
  passStart: Picos;
  passBytes: number;
  passDuration: Picos;
  /** Bytes/s. */
  wireRate: number;
  /** The stop threshold assumed: wireRate × the downtime limit. */
  thresholdBytes: number;
  /** From pass 2 on: bytes/s, and dirtyRate / wireRate (the factor each pass shrinks by). */
  dirtyRate?: number;
  ratio?: number;
  /** From pass 2 on; `converged` at the switch-over. */
  verdict?: 'converging' | 'will-not-converge' | 'converged';
  /** When converging: projected pre-copy passes still to run and time to the switch-over. */
  passesLeft?: number;
  eta?: Picos;
}
/** A running migration made no progress for the configured time (emitted by `serve`). */
export interface Stalled extends EventBase {
  type: 'stalled';
  phase: PhaseName;
  /** Wire time of the migration's last progress. */
  since: Picos;
  idle: Picos;
}
/**
 * The QEMU stream's figures. On a cancelled or failed migration, what the stream got
 * through before it closed: its bytes, the passes begun (the last one cut short), and
 * precopyBytes = bytes unless SECTION_END(ram) had begun.
 */
export interface StreamSummary {
  /** Stream bytes (source → destination), from TCP sequence numbers when the payload was cut. */
  bytes: number;
  /**
   * RAM passes seen on the wire: pre-copy passes + the stop-and-copy pass. QEMU's
   * dirty-sync-count is iterations … iterations + 1 on converging runs (README, "Iterations").
   * Absent when the capture cut the payload (payloadCutBytes): passes need the records.
   */
  iterations?: number;
  /** Stream bytes before SECTION_END(ram): QEMU's precopy-bytes + framing (absent when cut). */
  precopyBytes?: number;
  /** From SECTION_END(ram) to the end: the last RAM pages, device state, EOF (absent when cut). */
  stopCopyBytes?: number;
  /** The SECTION_END(ram) record alone: QEMU's downtime-bytes + 18 bytes of framing. */
  ramStopCopyBytes?: number;
  /** The VM pause as the stream shows it (switch-over → EOF), when the stream switched over. */
  pause?: DowntimePart;
  /** Stream bytes the capture's snaplen cut (header-only capture): records not followed. */
  payloadCutBytes?: number;
  /**
   * multifd: the packets' bytes on all channels (headers, page offsets, pages) = QEMU 7.2's
   * multifd-bytes; `bytes`, `precopyBytes` and `stopCopyBytes` include the channels
   * (split at the switch-over's capture time), and `iterations` counts the passes the
   * channels' pages make (in QEMU's packet order).
   */
  multifdBytes?: number;
  /** multifd channels attributed to the migration. */
  channels?: number;
  /** Each channel's bytes (its 64-byte opening packet included), by channel id. */
  channelBytes?: number[];
  /** Post-copy: stream bytes after the switch's package (QEMU's postcopy-bytes +
   *  framing), and the destination's page requests seen on the return path. */
  postcopyBytes?: number;
  postcopyRequests?: number;
  /** Requested pages seen arriving, and the request → page time (mean, max). */
  postcopyLatency?: { served: number; mean: Picos; max: Picos };
  /** XBZRLE: pages sent as deltas and their bytes (QEMU's xbzrle-cache.pages/bytes). */
  xbzrlePages?: number;
  xbzrleBytes?: number;
  /** Pages compressed by QEMU's compress threads (the `compress` capability), and their
   *  bytes as QEMU's compression.compressed-size counts them (each record less 8 bytes). */
  compressedPages?: number;
  compressedBytes?: number;
  /** auto-converge: the CPU throttle (percent) in the libvirt job stats seen on the link (last, highest, replies read). */
  cpuThrottle?: { last: number; max: number; samples: number };
}
export interface EncryptedSummary {
  transport: 'tls';
  /** Source → destination bytes of the connection, from the TCP sequence space. */
  bytes: number;
  /** Destination → source bytes. */
  returnBytes: number;
  /** TLS records the source sent. */
  records: number;
}
export interface MigrationEnded extends EventBase {
  type: 'migration-ended';
  outcome: Outcome;
  reason?: string;
  /** Known by the end even when migration-started (sent at the first SYN) lacked it. */
  domain?: string;
  domainUuid?: string;
  /** Total migration time (OpenStack: Authentication start → Post-migration end). */
  total?: Picos;
  /** libvirt migration time: Remote connect start → Cleanup end. */
  libvirtTotal?: Picos;
  stream?: StreamSummary;
  phases: Partial<Record<PhaseName, {
    start: Picos; end: Picos; uncertain?: string; inferred?: { start?: Inference; end?: Inference }; clockError?: Picos;
  }>>;
  /**
   * Post-copy, inside Transfer: from the switch (the VM paused at the source, its device
   * state sent in one package; it runs on the destination right after) to QEMU_VM_EOF
   * (the last RAM page delivered). `downtime` keeps its meaning (the guest unreachable
   * over ICMP): in post-copy that is the package's transfer, not the end of the stream.
   */
  postcopy?: { start: Picos; end: Picos };
  /** The stream was encrypted: what is visible of it (the `stream` figures are not). */
  encrypted?: EncryptedSummary;
  downtime?: Picos;
}
export interface AnomalyEvent extends EventBase {
  type: 'anomaly';
  kind: AnomalyKind;
  /** Stable code (docs/anomalies.md); events fold per code, never across codes. */
  code: string;
  count: number;
  /** The code's constant description. */
  reason?: string;
  /** Numbers of the occurrence, when the event stands for exactly one message that had them. */
  fields?: AnomalyFields;
}

export type PhaseEvent =
  | MigrationStarted | PhaseStarted | PhaseEnded | Progress | Switchover | Downtime | MigrationEnded | AnomalyEvent
  | Convergence | Stalled;
