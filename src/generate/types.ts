import type { Picos } from '../core/time.js';
import type { WriteFormat } from '../ingest/types.js';
import type { PhaseOverrides } from './scenario/timing.js';

export type Scenario = 'kvm' | 'openstack';
export type Outcome = 'completed' | 'failed-prepare' | 'failed-transfer' | 'cancelled';
export type PhaseName =
  | 'authentication' | 'initialization' | 'remote-connect' | 'preparation' | 'transfer' | 'finish' | 'cleanup'
  | 'post-migration';

/** Marker names --lose accepts (the packet carrying that marker is not written). */
export const LOSABLE_MARKERS = [
  'auth-request', 'auth-response', 'servers-get', 'pre-live-reply', 'connect-syn', 'open-reply', 'prepare-call',
  'prepare-reply', 'transfer-syn', 'stopcopy', 'transfer-fin', 'finish-call', 'finish-reply', 'cleanup-fin',
  'post-call', 'post-reply',
] as const;
export type LosableMarker = (typeof LOSABLE_MARKERS)[number];

export interface GenerateOptions {
  scenario: Scenario;
  /** 1–4: m1.small … m1.xlarge (1/2/4/8 vCPU, 2/4/8/16 GiB). */
  flavor: number;
  /** Guest CPU load in percent (drives the dirty rate, and picks the Appendix A tables). */
  load: number;
  linkGbps: number;
  runs: number;
  /** Runs overlap in time (different VMs) instead of following each other. */
  overlap: boolean;
  seed: number;
  format: WriteFormat;
  /** 0 < F ≤ 1: share of RAM pages encoded in the stream (timing unchanged). */
  payloadScale: number;
  outcome: Outcome;
  /** Drop the packet of this marker in the first migration. */
  lose?: LosableMarker;
  /** Phase durations (seconds) replacing the drawn ones. */
  overrides?: PhaseOverrides;
  /** Guest dirty rate ÷ stream goodput, replacing the one derived from the load: each
   *  pre-copy pass is this times the previous one; ≥ 1 never converges (pass count capped). */
  dirtyRatio?: number;
  /** Trace start, picoseconds since the epoch. */
  startTime?: Picos;
}

export interface PhaseSpan {
  start: Picos;
  end: Picos;
}

export interface MigrationTruth {
  id: string;
  scenario: Scenario;
  outcome: Outcome;
  source: string;
  destination: string;
  controller?: string;
  domain: string;
  domainUuid: string;
  vmIp: string;
  factors: { flavor: number; load: number; linkGbps: number; payloadScale: number };
  /** Which study tables the durations were drawn from. */
  reference: string[];
  phases: Partial<Record<PhaseName, PhaseSpan>>;
  total?: Picos;
  libvirtTotal?: Picos;
  /** Echo-reply gap around the switch-over; absent when the VM never paused. */
  downtime?: Picos;
  lostPings: number;
  pausedAt?: Picos;
  resumedAt?: Picos;
  /** The stream model's pass-size ratio (dirty rate ÷ goodput); absent without a stream. */
  dirtyRatio?: number;
  /** RAM passes including the final stop-and-copy pass (QEMU dirty-sync-count − 1: see src/protocols/qemu/types.ts). */
  iterations: number;
  passBytes: number[];
  precopyBytes: number;
  stopCopyBytes: number;
  /** TCP payload bytes source→destination on the QEMU stream connection. */
  streamBytes: number;
  migrateUri?: string;
  connections: { libvirt: string; stream?: string };
  /** Every marker packet's timestamp (as written, or as it would have been if lost). */
  markers: Record<string, Picos>;
  lost?: { marker: string; ts: Picos };
}

export interface GroundTruth {
  generator: string;
  seed: number;
  format: WriteFormat;
  resolution: Picos;
  packets: number;
  bytes: number;
  migrations: MigrationTruth[];
}
