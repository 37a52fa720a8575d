/**
 * Live benchmark: the highest drop-free replay rate onto a veth between two namespaces
 * this file creates, for migscope's native ring path (libpcap thread → SPSC rings →
 * decode workers running the Dissector) and for the `cap` package's per-packet JS
 * callback (counting only, and counting + the same Dissector, so the comparison is fair).
 *
 * A rate is drop-free when the capture saw every packet tcpreplay sent and nothing was
 * dropped (ring drops and kernel drops from pcap_stats both 0; cap exposes no
 * pcap_stats, so for cap "saw every packet" is the whole test). Rates double from a
 * start value until the first drop (or until tcpreplay cannot send faster), then bisect.
 *
 *   node dist/bench/live.js [--smoke] [--latency-only] [--json FILE]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRingPipeline, type RingPipelineStats } from '../src/pipeline/ring/run.js';
import { createVethPair, type VethPair } from '../test/live/netns.js';
import type { CapChildReport } from './live-cap-child.js';
import { LATENCY_STAGES, measureLiveLatency, type LiveLatency } from './live-latency.js';
import { generateTrace, liveRequirement, settle, tcpreplay, type ReplayOutcome, type TraceTotals } from './live-replay.js';

export type LivePath = 'migscope' | 'migscope-pcap' | 'cap-count' | 'cap-decode';

export interface LiveDropFreeOptions {
  /** Tiny trace, few short steps: seconds, for CI. */
  smoke?: boolean;
  paths?: LivePath[];
  /** Decode workers of the migscope path. Default 2. */
  workers?: number;
  /** Generator payload scale of the trace (default 0.2 full, 0.002 smoke). */
  payloadScale?: number;
  startPps?: number;
  /** Traffic per trial (the trace is looped to last this long at the trial's rate). */
  trialSeconds?: number;
  maxDoublings?: number;
  bisectSteps?: number;
  /**
   * Packets replayed (at a low rate) before each trial and left out of its counts, so a
   * trial measures warm JIT-compiled code, as in a long capture, not start-up.
   */
  warmupPackets?: number;
  /** Also measure migscope's marker → event latency at wire timing (default: not in smoke). */
  latency?: boolean;
  /** libpcap buffer of both captures (bytes). Default 32 MiB, migscope's default. */
  bufferBytes?: number;
  log?: (line: string) => void;
}

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

const DESCRIPTION: Record<LivePath, string> = {
  migscope: 'zero copy: one AF_PACKET ring per decode worker (PACKET_FANOUT), read in place (Dissector)',
  'migscope-pcap': 'libpcap fallback (--capture pcap): libpcap thread copies into SPSC rings → decode workers (Dissector)',
  'cap-count': 'cap: per-packet JS callback, counting only',
  'cap-decode': 'cap: per-packet JS callback + Dissector (same decoding as migscope)',
};

/** The checkout: from dist/bench/live.js two levels up, from bench/live.ts (vitest) one. */
const repoRoot = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4 && !existsSync(path.join(dir, 'package.json')); i++) dir = path.dirname(dir);
  return dir;
})();
/** cap's capture loop runs as plain JavaScript in a child process: always the compiled copy. */
const capChildScript = path.join(repoRoot, 'dist', 'bench', 'live-cap-child.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Trial = (pair: VethPair, trace: TraceTotals, targetPps: number | null, loops: number) => Promise<LiveTrial>;

/**
 * Fresh isolates compile the decoders while the first packets arrive (TurboFan runs on
 * V8's platform threads, which share the cores with everything else here): send
 * `packets` slowly first, wait until the capture counted them, and measure from there.
 */
async function warmUp(pair: VethPair, trace: TraceTotals, packets: number, counted: () => number): Promise<void> {
  if (packets <= 0) return;
  const loops = Math.ceil(packets / trace.packets);
  const sent = await tcpreplay(pair.txNs, pair.txIf, trace.file, { pps: Math.min(50_000, packets * 2), loops, limit: packets }, 60_000);
  await settle(counted, sent.sent, 500, 5000);
  await sleep(250); // kernel drop counters are polled every 100 ms, stats every 50 ms
}

function migscopeTrial(workers: number, bufferBytes: number, warmupPackets: number, capture: 'af-packet' | 'pcap'): Trial {
  return async (pair, trace, targetPps, loops) => {
    let messages = 0;
    let last: RingPipelineStats | undefined;
    const run = startRingPipeline({
      source: { kind: 'iface', name: pair.rxIf, netns: pair.rxNs, bufferSize: bufferBytes },
      workers, capture, onMessage: () => { messages++; }, onStats: (s) => { last = s; }, statsIntervalMs: 50,
    });
    // A worker crash rejects `done` while we are still replaying: observe it from the start.
    const done = run.done;
    done.catch(() => undefined);
    const drops = (s: RingPipelineStats | undefined): { ring: number; kernel: number } => ({
      ring: s ? s.rings.reduce((a, r) => a + r.dropped, 0) : 0,
      kernel: s ? s.kernelDrops + s.interfaceDrops : 0,
    });
    let replay: ReplayOutcome;
    let base = { packets: 0, messages: 0, ring: 0, kernel: 0 };
    let cpuStart = process.cpuUsage();
    let cpuUs = 0;
    try {
      await run.ready; // AF_PACKET: the workers warmed up and the sockets take packets
      await sleep(300); // libpcap: workers up (the rings and the kernel buffer would hold the start anyway)
      await warmUp(pair, trace, warmupPackets, () => last?.packets ?? 0);
      base = { packets: last?.packets ?? 0, messages, ...drops(last) };
      cpuStart = process.cpuUsage();
      replay = await tcpreplay(pair.txNs, pair.txIf, trace.file, { ...(targetPps === null ? {} : { pps: targetPps }), loops }, 120_000);
      await settle(() => (last?.packets ?? 0) - base.packets, replay.sent, 1000, 10_000);
      const c = process.cpuUsage(cpuStart);
      cpuUs = c.user + c.system;
    } finally {
      run.stop();
    }
    const { stats } = await done;
    const captured = stats.packets - base.packets;
    const ringDrops = drops(stats).ring - base.ring;
    const kernelDrops = drops(stats).kernel - base.kernel;
    return {
      targetPps, replay, captured, ringDrops, kernelDrops, messages: messages - base.messages,
      cpuUsPerPacket: captured > 0 ? cpuUs / captured : null,
      dropFree: captured === replay.sent && ringDrops === 0 && kernelDrops === 0 && replay.failed === 0,
    };
  };
}

function capTrial(mode: 'count' | 'decode', bufferBytes: number, warmupPackets: number): Trial {
  return async (pair, trace, targetPps, loops) => {
    const child = spawn('ip', ['netns', 'exec', pair.rxNs, 'node', capChildScript, pair.rxIf, String(bufferBytes), mode],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let last: CapChildReport = { packets: 0, bytes: 0, messages: 0, cpuUs: 0 };
    let final: CapChildReport | undefined;
    let ready = false;
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'ready') { ready = true; continue; }
        last = JSON.parse(line) as CapChildReport;
        if (last.final) final = last;
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 180_000);
    try {
      for (let i = 0; i < 200 && !ready; i++) {
        if (child.exitCode !== null) break;
        await sleep(50);
      }
      if (!ready) throw new Error(`cap capture did not start: ${err.slice(-300)}`);
      await warmUp(pair, trace, warmupPackets, () => last.packets);
      const base = { ...last };
      const replay = await tcpreplay(pair.txNs, pair.txIf, trace.file, { ...(targetPps === null ? {} : { pps: targetPps }), loops }, 120_000);
      await settle(() => last.packets - base.packets, replay.sent, 1000, 10_000);
      child.kill('SIGINT');
      await exited;
      const r = final ?? last;
      const captured = r.packets - base.packets;
      return {
        targetPps, replay, captured, ringDrops: 0, kernelDrops: null,
        messages: mode === 'decode' ? r.messages - base.messages : null,
        cpuUsPerPacket: captured > 0 ? (r.cpuUs - base.cpuUs) / captured : null,
        dropFree: captured === replay.sent && replay.failed === 0,
      };
    } finally {
      clearTimeout(guard);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };
}

interface SearchOptions { startPps: number; trialSeconds: number; maxDoublings: number; bisectSteps: number; senderPps: number }

/** Doubling until the first drop (or the sender's ceiling), then bisection. Bounded. */
async function searchDropFree(trial: Trial, pair: VethPair, trace: TraceTotals, o: SearchOptions,
  log: (s: string) => void, name: LivePath): Promise<LivePathResult> {
  const trials: LiveTrial[] = [];
  let best: LiveTrial | undefined;
  let firstDrop: number | undefined;
  let senderLimited = false;
  /** `pps` null: tcpreplay's top speed (sized as if at the no-capture ceiling). */
  const run = async (pps: number | null): Promise<boolean> => {
    const sized = pps ?? o.senderPps;
    const loops = Math.min(500, Math.max(1, Math.round((sized * o.trialSeconds) / trace.packets)));
    const t = await trial(pair, trace, pps, loops);
    trials.push(t);
    log(`${name.padEnd(10)} target ${pps === null ? 'top speed' : `${Math.round(pps)} pps`}: sent ${t.replay.sent} at ${Math.round(t.replay.pps)} pps `
      + `(${t.replay.gbps.toFixed(2)} Gbit/s), captured ${t.captured}, ring drops ${t.ringDrops}, `
      + `kernel drops ${t.kernelDrops ?? 'n/a'} → ${t.dropFree ? 'drop-free' : 'DROPS'}`);
    if (t.dropFree && (best === undefined || t.replay.pps > best.replay.pps)) best = t;
    const dropAt = pps ?? t.replay.pps;
    if (!t.dropFree && (firstDrop === undefined || dropAt < firstDrop)) firstDrop = dropAt;
    return t.dropFree;
  };
  let lo = 0;
  let hi: number | undefined;
  let pps = o.startPps;
  for (let i = 0; i <= o.maxDoublings; i++) {
    // Past the ceiling tcpreplay showed alone, the last step is --topspeed: the sender's
    // own limit next to this capture (the ceiling measured earlier may have been low).
    const capped = pps >= o.senderPps;
    if (await run(capped ? null : pps)) {
      const achieved = trials[trials.length - 1]!.replay.pps;
      lo = capped ? achieved : pps;
      // Asking for more than the sender manages next to this capture measures nothing new.
      if (capped || achieved < 0.8 * lo) { senderLimited = true; break; }
      pps *= 2;
    } else {
      hi = capped ? trials[trials.length - 1]!.replay.pps : pps;
      break;
    }
  }
  for (let i = 0; i < o.bisectSteps && hi !== undefined && hi - lo > hi * 0.05; i++) {
    const mid = lo === 0 ? hi / 2 : (lo + hi) / 2;
    if (await run(mid)) lo = mid; else hi = mid;
  }
  return {
    path: name, description: DESCRIPTION[name], trials, senderLimited,
    dropFreePps: best ? best.replay.pps : null, dropFreeGbps: best ? best.replay.gbps : null,
    firstDropPps: firstDrop ?? null,
  };
}

/** Creates the namespaces, generates the trace, measures every path, cleans up. */
export async function measureLiveDropFree(opts: LiveDropFreeOptions = {}): Promise<LiveDropFreeResult> {
  const missing = liveRequirement();
  if (missing) throw new Error(`live benchmark ${missing}`);
  const smoke = opts.smoke ?? false;
  const log = opts.log ?? (() => undefined);
  const paths = opts.paths ?? (smoke ? ['migscope', 'cap-count'] : ['migscope', 'migscope-pcap', 'cap-decode', 'cap-count']);
  const bufferBytes = opts.bufferBytes ?? 32 << 20;
  const loadStart = loadavg()[0] ?? 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'migscope-live-bench-'));
  let pair: VethPair | undefined;
  let removeOnExit: (() => void) | undefined;
  try {
    const trace = generateTrace(repoRoot, path.join(dir, 'openstack.pcap'), opts.payloadScale ?? (smoke ? 0.002 : 0.2), 1);
    log(`trace: ${trace.packets} packets, ${trace.bytes} bytes (mean frame ${trace.meanFrameBytes.toFixed(0)} B)`);
    pair = createVethPair(`b${process.pid % 100000}`);
    const p = pair;
    // finally does not run when the process is ended: 'exit' still removes the namespaces.
    process.once('exit', removeOnExit = () => p.remove());
    const senderLoops = Math.max(1, Math.round((smoke ? 20_000 : 1_000_000) / trace.packets));
    const sender = paths.length > 0 ? await tcpreplay(p.txNs, p.txIf, trace.file, { loops: senderLoops }, 120_000)
      : { sent: 0, failed: 0, bytes: 0, seconds: 0, pps: 0, gbps: 0 };
    log(`sender ceiling (tcpreplay --topspeed, no capture): ${Math.round(sender.pps)} pps, ${sender.gbps.toFixed(2)} Gbit/s`);
    const search: SearchOptions = {
      startPps: opts.startPps ?? (smoke ? 5_000 : 25_000), trialSeconds: opts.trialSeconds ?? (smoke ? 0.5 : 2),
      maxDoublings: opts.maxDoublings ?? (smoke ? 1 : 8), bisectSteps: opts.bisectSteps ?? (smoke ? 0 : 3),
      senderPps: sender.pps,
    };
    const results: LivePathResult[] = [];
    for (const name of paths) {
      const warm = opts.warmupPackets ?? (smoke ? 2000 : 20_000);
      const trial = name === 'migscope' || name === 'migscope-pcap'
        ? migscopeTrial(opts.workers ?? 2, bufferBytes, warm, name === 'migscope' ? 'af-packet' : 'pcap')
        : capTrial(name === 'cap-decode' ? 'decode' : 'count', bufferBytes, warm);
      results.push(await searchDropFree(trial, p, trace, search, log, name));
    }
    let latency: LiveLatency | undefined;
    let latencyPcap: LiveLatency | undefined;
    if (opts.latency ?? (!smoke && paths.includes('migscope'))) {
      // Several migrations one after the other, so that p99 rests on a few hundred events.
      const latencyTrace = generateTrace(repoRoot, path.join(dir, 'openstack-4.pcap'), opts.payloadScale ?? 0.2, 4);
      for (const capture of ['af-packet', 'pcap'] as const) {
        const l = await measureLiveLatency(p, latencyTrace, opts.workers ?? 2, capture);
        log(`latency at wire timing (${capture}): ${l.events} events, trigger packet → event p50 ${l.triggerUs.p50.toFixed(0)} µs `
          + `p99 ${l.triggerUs.p99.toFixed(0)} µs max ${l.triggerUs.max.toFixed(0)} µs; all p50 ${l.allUs.p50.toFixed(0)} µs `
          + `p99 ${l.allUs.p99.toFixed(0)} µs max ${l.allUs.max.toFixed(0)} µs; started/progress p50 ${l.startedUs.p50.toFixed(0)} µs `
          + `p99 ${l.startedUs.p99.toFixed(0)} µs`);
        if (capture === 'af-packet') latency = l; else latencyPcap = l;
      }
    }
    const pps = (n: LivePath): number | null => results.find((r) => r.path === n)?.dropFreePps ?? null;
    const ratio = (other: LivePath): number | null => {
      const m = pps('migscope');
      const c = pps(other);
      return m !== null && c !== null && c > 0 ? m / c : null;
    };
    const firstCpu = (n: LivePath): number | null => results.find((r) => r.path === n)?.trials[0]?.cpuUsPerPacket ?? null;
    const cpuRatio = (a: LivePath, b: LivePath): number | null => {
      const x = firstCpu(a);
      const y = firstCpu(b);
      return x !== null && y !== null && y > 0 ? x / y : null;
    };
    return {
      smoke, trace, sender, paths: results, ratioVsCapDecode: ratio('cap-decode'), ratioVsCapCount: ratio('cap-count'),
      cpuRatioVsCapDecode: cpuRatio('migscope', 'cap-decode'), cpuRatioPcapVsCapDecode: cpuRatio('migscope-pcap', 'cap-decode'),
      ...(latency ? { latency } : {}),
      ...(latencyPcap ? { latencyPcap } : {}),
      loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    };
  } finally {
    if (removeOnExit) process.off('exit', removeOnExit);
    pair?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, json: { type: 'string' }, 'latency-only': { type: 'boolean' } } });
  const latencyOnly = values['latency-only'] === true;
  // Ctrl-C: exit through 'exit' so the namespaces this run made are removed.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  measureLiveDropFree({
    smoke: values.smoke ?? false, log: (l) => process.stderr.write(`${l}\n`), ...(latencyOnly ? { paths: [], latency: true } : {}),
  })
    .then((r) => {
      process.stdout.write(`${formatLiveResult(r)}\n`);
      if (values.json) writeFileSync(values.json, `${JSON.stringify(r, null, 2)}\n`);
    })
    .catch((e: unknown) => {
      process.stderr.write(`live bench: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    });
}
