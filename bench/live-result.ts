/** What bench/live.ts measures, and its Markdown. */
import { cpus } from 'node:os';
import { LATENCY_STAGES, type LiveLatency } from './live-latency.js';
import type { ReplayOutcome, TraceTotals } from './live-replay.js';

export type LivePath = 'migscope' | 'migscope-pcap' | 'cap-count' | 'cap-decode';

export interface LiveTrial {
  /** The rate asked of tcpreplay; null: --topspeed (as fast as it can next to this capture). */
  targetPps: number | null;
  replay: ReplayOutcome;
  captured: number;
  ringDrops: number;
  /** pcap_stats ps_drop + ps_ifdrop; null for cap, which does not expose pcap_stats. */
  kernelDrops: number | null;
  /** Protocol messages decoded (null when the path only counts). */
  messages: number | null;
  /**
   * CPU time (user + system, all threads of the capturing process) from the end of the
   * warm-up to the last packet counted, per packet captured (µs). The veth's softirq
   * work and tcpreplay run elsewhere or are charged to whoever they interrupt.
   */
  cpuUsPerPacket: number | null;
  dropFree: boolean;
}

export interface LivePathResult {
  path: LivePath;
  description: string;
  /** Achieved rate of the fastest drop-free trial (tcpreplay's own figure). */
  dropFreePps: number | null;
  /** The same trial's replayed frame bytes as Gbit/s. */
  dropFreeGbps: number | null;
  /** Lowest rate asked that dropped (top speed: the rate sent); null: none did. */
  firstDropPps: number | null;
  /**
   * The search ended drop-free because tcpreplay could go no faster (it reached its
   * no-capture ceiling, or fell under 80 % of the asked rate while this capture ran, as
   * when the capture's own CPU use slows the sender): the capture's limit lies higher.
   */
  senderLimited: boolean;
  trials: LiveTrial[];
}

export interface LiveDropFreeResult {
  smoke: boolean;
  trace: TraceTotals;
  /** tcpreplay --topspeed with nobody capturing: the ceiling this machine can send. */
  sender: ReplayOutcome;
  paths: LivePathResult[];
  /** migscope's drop-free pps over cap's (null when either has none). */
  ratioVsCapDecode: number | null;
  ratioVsCapCount: number | null;
  /**
   * CPU per packet of migscope (AF_PACKET) ÷ that of cap + the same Dissector, and of
   * migscope's libpcap path ÷ cap + Dissector, in the first trial (the same asked rate
   * for every path, drop-free for all of them on any machine the bench is meant for).
   */
  cpuRatioVsCapDecode: number | null;
  cpuRatioPcapVsCapDecode: number | null;
  /** migscope's live event latency with the trace replayed at its own timing (AF_PACKET, and libpcap). */
  latency?: LiveLatency;
  latencyPcap?: LiveLatency;
  /**
   * 1-minute load average before and after: every path shares this machine's cores
   * with tcpreplay and the veth's softirq work, so other load lowers every figure.
   */
  loadAverage: { start: number; end: number };
}

/** Markdown table of a result (what `node dist/bench/live.js` prints). */
export function formatLiveResult(r: LiveDropFreeResult): string {
  const num = (v: number | null, d = 0): string => (v === null ? '—' : v.toFixed(d));
  const rows = r.paths.map((p) => `| ${p.path} | ${num(p.dropFreePps)} | ${num(p.dropFreeGbps, 2)} | `
    + `${num(p.firstDropPps)} | ${p.senderLimited ? 'yes' : 'no'} | ${num(p.trials[0]?.cpuUsPerPacket ?? null, 2)} | ${p.trials.length} | ${p.description} |`);
  const ms = (us: number): string => (us / 1000).toFixed(2);
  const latencyLine = (name: string, l: LiveLatency): string => `${name} event latency at wire timing, ${l.events} events: `
    + `packet that triggers it → event p50 ${ms(l.triggerUs.p50)} ms, p99 ${ms(l.triggerUs.p99)} ms, max ${ms(l.triggerUs.max)} ms `
    + `(first event ${ms(l.firstTriggerUs)} ms: ${LATENCY_STAGES.map((k) => `${k} ${ms(l.firstStagesUs[k])}`).join(', ')}; target p99 < 1 ms: ${l.triggerUs.p99 < 1000 ? 'met' : `${ms(l.triggerUs.p99 - 1000)} ms short`}); `
    + `event time stamp → event: all p50 ${ms(l.allUs.p50)} ms, p99 ${ms(l.allUs.p99)} ms, max ${ms(l.allUs.max)} ms; `
    + `started/progress p50 ${ms(l.startedUs.p50)} ms, p99 ${ms(l.startedUs.p99)} ms\n`
    + `  where it goes (p50/p99/max ms): ${LATENCY_STAGES.map((k) => `${k} ${ms(l.stages[k].p50)}/${ms(l.stages[k].p99)}/${ms(l.stages[k].max)}`).join(', ')}; `
    + `the ${l.slow.events} events over 1 ms spent on average ${LATENCY_STAGES.map((k) => `${k} ${ms(l.slow.meanUs[k])}`).join(', ')} ms`;
  return [
    `Live drop-free replay rate${r.smoke ? ' (smoke)' : ''}: trace ${r.trace.packets} packets, mean frame `
      + `${r.trace.meanFrameBytes.toFixed(0)} B; sender ceiling ${Math.round(r.sender.pps)} pps (${r.sender.gbps.toFixed(2)} Gbit/s)`,
    '',
    '| path | drop-free pps | Gbit/s | first drop at (target pps) | sender-limited | CPU µs/packet (first trial) | trials | what |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |',
    ...rows,
    '',
    `drop-free rate, migscope / cap (with Dissector): ${num(r.ratioVsCapDecode, 2)}×; migscope / cap (count only): ${num(r.ratioVsCapCount, 2)}×`,
    `CPU per packet, migscope AF_PACKET / cap + Dissector: ${num(r.cpuRatioVsCapDecode, 2)}×; migscope libpcap / cap + Dissector: ${num(r.cpuRatioPcapVsCapDecode, 2)}×`,
    ...(r.latency ? [latencyLine('migscope (AF_PACKET)', r.latency)] : []),
    ...(r.latencyPcap ? [latencyLine('migscope (libpcap)', r.latencyPcap)] : []),
    `load average ${r.loadAverage.start.toFixed(2)} → ${r.loadAverage.end.toFixed(2)} on ${cpus().length} cores`,
  ].join('\n');
}

