/**
 * `npm run bench`: decode throughput, peak memory and event latency of migscope side by
 * side with the peers (tshark, tcpdump, pcap-parser, cat), all measured in this one run
 * on the same files and reported as ratios. Results: <out>/<stamp>.json and latest.md.
 *
 *   npm run bench                   full run (multi-GB traces, cached in bench/data/)
 *   npm run bench -- --smoke        tiny traces, a few seconds (what CI runs)
 *   npm run bench -- --hostile      issue 10's growing inputs at N and 4N (bench/hostile.ts)
 *   options: --out DIR (default bench/results), --repeat N (best of N; default 2, smoke 1;
 *            runs over 60 s once), --limit S (kill a subject's run after S s; default 300),
 *            --baseline DIR (a built checkout of another migscope version, e.g. before an
 *            optimisation: its three paths join the run as "baseline …" subjects),
 *            --traces NAME,… (measure the subjects on these traces only, e.g. realshape-56,xlarge-10g.pcap)
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureDissectorPps } from './dissector-pps.js';
import { profileMigscope, profilePureTs, type CpuProfileSummary } from './profile.js';
import { measureEventLatency } from './latency.js';
import { measureLiveDropFree, type LiveDropFreeResult } from './live.js';
import { liveRequirement } from './live-replay.js';
import { runHostileBench } from './hostile.js';
import { measure, type Measurement } from './measure.js';
import { measureNatsThroughput, natsRequirement, type NatsThroughput } from './nats.js';
import { renderMarkdown, shortfallLines } from './report.js';
import { PURE_TS, subjectsFor, verifyPackets, type Subject } from './subjects.js';
import { evaluateTargets } from './targets.js';
import { ensureTrace, traceSpecs, type TraceInfo } from './traces.js';
import type { BenchResults, SubjectResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const root = resolve(here, '../..');
const cli = join(root, 'bin/migscope.js');
const pcapParserScript = join(here, 'pcap-parser-count.js');

/** Runs this long are measured once: their noise is small, and the run must fit ~30 min. */
const LONG_RUN_S = 60;

/**
 * Best (least disturbed) of `repeat` runs; every run must pass the whole-file check. A
 * run is killed at `limitS` (tshark with a protocol tree slows down more than linearly
 * on multi-GB captures): it is then reported as a lower bound, never as a rate.
 */
async function measureSubject(s: Subject, trace: TraceInfo, repeat: number, scratch: string, limitS: number): Promise<SubjectResult> {
  let best: (Measurement & { packetsCounted: number | null; problem?: string }) | undefined;
  let peakRss = 0;
  let peakAnon = 0;
  let peakFile = 0;
  for (let i = 0; i < repeat; i++) {
    const stdoutFile = join(scratch, 'stdout');
    const m = await measure(s.argv, { stdoutFile, timeoutMs: limitS * 1000 });
    peakRss = Math.max(peakRss, m.maxRssBytes);
    peakAnon = Math.max(peakAnon, m.peakAnonBytes);
    peakFile = Math.max(peakFile, m.peakFileBytes);
    if (m.timedOut) {
      best = { ...m, packetsCounted: null, problem: `did not finish within ${limitS} s (killed; figures are bounds)` };
      break;
    }
    const verdict = m.exitCode === 0
      ? await verifyPackets(s.check, stdoutFile, trace.packets)
      : { packetsCounted: null, problem: `exit ${m.exitCode}: ${m.stderrTail.trim().split('\n').pop() ?? ''}` };
    rmSync(stdoutFile, { force: true });
    const run = { ...m, ...verdict };
    if (verdict.problem !== undefined) { best = run; break; }
    if (!best || m.wallSeconds < best.wallSeconds) best = run;
    if (m.wallSeconds > LONG_RUN_S) break;
  }
  const b = best!;
  return {
    ...b, maxRssBytes: peakRss, peakAnonBytes: peakAnon, peakFileBytes: peakFile, subject: s.name, trace: trace.name, migscope: s.migscope,
    packetsPerSecond: trace.packets / b.wallSeconds, gbitPerSecond: (trace.capturedBytes * 8) / b.wallSeconds / 1e9,
    timeRatioToMigscope: Number.NaN, timeRatioToBestMigscope: Number.NaN, cpuRatioToMigscope: Number.NaN,
    ...(b.timedOut ? { lowerBound: true } : {}),
  };
}

/** Ratios only between runs that processed the whole file; anything else stays NaN. */
function fillRatios(runs: SubjectResult[]): void {
  const ok = runs.filter((r) => r.exitCode === 0 && r.problem === undefined);
  const base = ok.find((r) => r.subject === PURE_TS);
  const ours = ok.filter((r) => r.migscope);
  const best = ours.length > 0 ? ours.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a)) : undefined;
  for (const r of [...ok, ...runs.filter((x) => x.lowerBound)]) {
    if (base) r.timeRatioToMigscope = r.wallSeconds / base.wallSeconds;
    if (base && !r.lowerBound) r.cpuRatioToMigscope = r.cpuSeconds / base.cpuSeconds;
    if (best) r.timeRatioToBestMigscope = r.wallSeconds / best.wallSeconds;
  }
}

export async function runBench(argv: string[]): Promise<BenchResults> {
  const { values } = parseArgs({ args: argv, options: {
    smoke: { type: 'boolean' }, traces: { type: 'string' }, repeat: { type: 'string' }, out: { type: 'string' }, baseline: { type: 'string' }, limit: { type: 'string' },
    'no-live': { type: 'boolean' },
  } });
  const baselineCli = values.baseline !== undefined ? join(resolve(values.baseline), 'bin/migscope.js') : undefined;
  if (baselineCli !== undefined && !existsSync(baselineCli)) throw new Error(`--baseline: ${baselineCli} not found`);
  const smoke = values.smoke === true;
  if (!existsSync('/usr/bin/time')) throw new Error('GNU time (/usr/bin/time) is missing: apt-get install time (scripts/setup.sh does)');
  const repeat = Math.max(1, Number(values.repeat ?? (smoke ? 1 : 2)));
  const limitS = Math.max(1, Number(values.limit ?? 300));
  const dataDir = join(root, 'bench/data');
  const outDir = resolve(values.out ?? join(root, 'bench/results'));
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'mgs-bench-out-'));

  const cpu = cpus();
  const loadBefore = loadavg()[0]!;
  const traces = traceSpecs(smoke).map((spec) => ensureTrace(spec, dataDir, cli));
  // --traces NAME,…: the subjects run on these only (the latency replay still uses mixed-8).
  const only = values.traces?.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const measured = only === undefined ? traces : traces.filter((t) => only.includes(t.name) || only.includes(t.name.replace(/\.[a-z]+$/, '')));
  if (measured.length === 0) throw new Error(`--traces ${values.traces}: no such trace (${traces.map((t) => t.name).join(', ')})`);
  const runs: SubjectResult[] = [];
  try {
    for (const trace of measured) {
      const perTrace: SubjectResult[] = [];
      for (const s of subjectsFor(trace, cli, pcapParserScript, baselineCli)) {
        process.stderr.write(`bench: ${trace.name}: ${s.name}\n`);
        perTrace.push(await measureSubject(s, trace, repeat, scratch, limitS));
      }
      fillRatios(perTrace);
      runs.push(...perTrace);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  let profile: CpuProfileSummary | undefined;
  let workersProfile: CpuProfileSummary | undefined;
  const first = measured[0]!;
  try {
    process.stderr.write(`bench: CPU profiles of migscope pure-TS and --workers 2 on ${first.name}\n`);
    profile = profilePureTs(cli, first.path, first.name);
    if (first.format === 'pcap') workersProfile = profileMigscope(cli, first.path, first.name, 'migscope --workers 2', ['--workers', '2']);
  } catch (e) {
    process.stderr.write(`bench: no profile: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  process.stderr.write('bench: Dissector alone (synthetic, in-process)\n');
  const dissector = measureDissectorPps(smoke ? 200_000 : 4_000_000);

  // Latency on the mixed trace: many flows and markers at once, replayed at wire speed
  // (smoke: 10× faster, to stay short; the figure is then not the real-time one).
  const mixed = traces.find((t) => t.name.startsWith('mixed-')) ?? traces[0]!;
  const speed = smoke ? 10 : 1;
  process.stderr.write(`bench: event latency, ${speed}× wire-speed replay of ${mixed.name} (${mixed.wireSeconds.toFixed(1)} s of wire time)\n`);
  const latency = { ...(await measureEventLatency(mixed.path, speed)), trace: mixed.name, speed };

  let nats: NatsThroughput | undefined;
  let natsSkipped: string | undefined = natsRequirement();
  if (natsSkipped === undefined) {
    process.stderr.write(`bench: agent → NATS JetStream → aggregator vs in-process, ${mixed.name}\n`);
    try {
      nats = await measureNatsThroughput(mixed.path, mixed.name);
    } catch (e) {
      natsSkipped = `NATS bench failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  // Live last, so tcpreplay does not share the cores with the offline subjects.
  let live: LiveDropFreeResult | undefined;
  let liveSkipped: string | undefined = values['no-live'] ? '--no-live' : liveRequirement();
  if (liveSkipped === undefined) {
    process.stderr.write('bench: live drop-free rate on a veth (migscope vs cap)\n');
    try {
      live = await measureLiveDropFree({ smoke, log: (l) => process.stderr.write(`bench: live: ${l}\n`) });
    } catch (e) {
      liveSkipped = `live bench failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  const results: BenchResults = {
    when: new Date().toISOString(), mode: smoke ? 'smoke' : 'full', repeat, limitSeconds: limitS,
    ...(values.baseline !== undefined ? { baseline: resolve(values.baseline) } : {}),
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', node: process.version, loadavg: { before: loadBefore, after: loadavg()[0]! } },
    traces: measured, runs, dissector, latency, targets: [],
    ...(live ? { live } : {}), ...(liveSkipped !== undefined ? { liveSkipped } : {}),
    ...(nats ? { nats } : {}), ...(natsSkipped !== undefined ? { natsSkipped } : {}),
    ...(profile ? { profile } : {}), ...(workersProfile ? { workersProfile } : {}),
  };
  results.targets = evaluateTargets(results);
  const stamp = results.when.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, `${results.mode}-${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  const md = renderMarkdown(results);
  writeFileSync(join(outDir, smoke ? 'latest-smoke.md' : 'latest.md'), md);
  process.stdout.write(md);
  for (const line of shortfallLines(results)) process.stderr.write(`bench: ${line}\n`);
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const job = args.includes('--hostile') ? runHostileBench(args) : runBench(args);
  job.catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
