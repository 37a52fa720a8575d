import type { DissectorPps } from './dissector-pps.js';
import type { LatencyResult } from './latency.js';
import type { LiveDropFreeResult } from './live.js';
import type { Measurement } from './measure.js';
import type { NatsThroughput } from './nats.js';
import type { TraceInfo } from './traces.js';
import type { CpuProfileSummary } from './profile.js';

/** The shapes of a benchmark run's results, shared by the runner, the targets and the report. */
export interface SubjectResult extends Measurement {
  subject: string;
  trace: string;
  migscope: boolean;
  /** Packets the subject reported processing (null: it reports none; exit code only). */
  packetsCounted: number | null;
  /** Set when the run did not process the whole file; its figures are then not used. */
  problem?: string;
  packetsPerSecond: number;
  gbitPerSecond: number;
  /** This subject's wall time ÷ migscope pure-TS wall time on the same trace (> 1: migscope is faster). */
  timeRatioToMigscope: number;
  /** This subject's wall time ÷ the fastest migscope path's on the same trace. */
  timeRatioToBestMigscope: number;
  /**
   * CPU time ÷ migscope pure-TS CPU time: the work each needs, steadier than wall time
   * when other jobs share the machine (but blind to what running on two cores buys).
   */
  cpuRatioToMigscope: number;
  /** Timed out: wall time and ratios are lower bounds (the rates upper bounds). */
  lowerBound?: boolean;
}

export interface BenchResults {
  when: string;
  mode: 'smoke' | 'full';
  repeat: number;
  /** --limit: seconds after which a subject's run is killed. */
  limitSeconds: number;
  /** --baseline: the other build whose paths were measured as "baseline …" subjects. */
  baseline?: string;
  /** loadavg: 1-minute load average before and after the run (other jobs on the machine). */
  machine: { cpus: number; cpuModel: string; node: string; loadavg: { before: number; after: number } };
  traces: TraceInfo[];
  runs: SubjectResult[];
  dissector: DissectorPps;
  latency?: LatencyResult & { trace: string; speed: number };
  /** Drop-free replay rate on a veth, migscope vs `cap` (bench/live.ts); absent with
   *  --no-live or where root, namespaces or tcpreplay are missing (`liveSkipped` says). */
  live?: LiveDropFreeResult;
  liveSkipped?: string;
  /** Agent → NATS JetStream → aggregator vs the same records in-process (bench/nats.ts). */
  nats?: NatsThroughput;
  natsSkipped?: string;
  targets: TargetVerdict[];
  /** Where the pure-TS path's time goes on the first trace (node --cpu-prof). */
  profile?: CpuProfileSummary;
  /** The same for --workers 2 on the first pcap trace (main thread and each worker). */
  workersProfile?: CpuProfileSummary;
}

/** One product goal from issue #7, checked against this run's numbers. */
export interface TargetVerdict {
  target: string;
  /** The figure the goal is about, as measured in this run (NaN: not measurable here). */
  measured: number;
  unit: string;
  goal: number;
  /** null: this run cannot tell (a subject missing or failed). */
  met: boolean | null;
  note: string;
}
