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
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRingPipeline, type RingPipelineStats } from '../src/pipeline/ring/run.js';
import { createVethPair, type VethPair } from '../test/live/netns.js';
import type { CapChildReport } from './live-cap-child.js';
import { measureLiveLatency, type LiveLatency } from './live-latency.js';
import { formatLiveResult, type LiveDropFreeResult, type LivePath, type LivePathResult, type LiveTrial } from './live-result.js';

export { formatLiveResult, type LiveDropFreeResult, type LivePath, type LivePathResult, type LiveTrial };
import { generateTrace, liveRequirement, settle, tcpreplay, type ReplayOutcome, type TraceTotals } from './live-replay.js';


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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: {
    smoke: { type: 'boolean' }, json: { type: 'string' }, 'latency-only': { type: 'boolean' }, workers: { type: 'string' },
  } });
  const latencyOnly = values['latency-only'] === true;
  // --workers 1 leaves a core to tcpreplay's spinning timer on a 2-core machine.
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 64)) {
    process.stderr.write(`live bench: --workers must be 1…64, got ${values.workers}\n`);
    process.exit(2);
  }
  // Ctrl-C: exit through 'exit' so the namespaces this run made are removed.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  measureLiveDropFree({
    smoke: values.smoke ?? false, log: (l) => process.stderr.write(`${l}\n`), ...(latencyOnly ? { paths: [], latency: true } : {}),
    ...(workers !== undefined ? { workers } : {}),
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
