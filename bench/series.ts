/**
 * `node dist/bench/series.js`: what the capture pool (piscina, one task per file) saves
 * when `migscope stats` reads a whole experiment series of captures, against the
 * in-process path (--jobs 1). Each measurement is a fresh `migscope stats` process, as
 * a researcher runs it: module loading and JIT warm-up count, in every worker too.
 * Both must print the same statistics; the script fails if they differ.
 *
 *   node dist/bench/series.js [--files 40] [--runs 1] [--payload-scale 0.05] [--jobs N] [--repeat 3] [--keep DIR]
 *
 * The captures are generated first (not timed) into a temp dir, or into DIR with --keep
 * (reused when it already holds them).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeGeneratedSeries } from '../src/generate/series.js';

const FLAVORS = [1, 2, 3, 4];
const LOADS = [0, 25, 50, 75, 100];
const cli = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'bin/migscope.js'); // from dist/bench

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '40' },
    runs: { type: 'string', default: '1' },
    'payload-scale': { type: 'string', default: '0.05' },
    jobs: { type: 'string', default: String(availableParallelism()) },
    repeat: { type: 'string', default: '3' },
    keep: { type: 'string' },
  },
});
const files = Number(values.files);
const runsPerFile = Number(values.runs);
const payloadScale = Number(values['payload-scale']);
const jobs = Number(values.jobs);
const repeat = Number(values.repeat);
for (const [name, v] of [['files', files], ['runs', runsPerFile], ['jobs', jobs], ['repeat', repeat]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
}

/** `files` captures: as many 20-cell series (flavor × load) as needed, one folder each. */
function generate(dir: string): string[] {
  const paths: string[] = [];
  for (let series = 0; paths.length < files; series++) {
    const sub = join(dir, `series${series}`);
    const expected = FLAVORS.flatMap((f) => LOADS.map((l) => join(sub, `f${f}-l${l}.pcap`)));
    if (!expected.every((p) => existsSync(`${p}.truth.json`))) {
      mkdirSync(sub, { recursive: true });
      writeGeneratedSeries(sub, { flavors: FLAVORS, loads: LOADS, runs: runsPerFile, seed: 1000 + 20 * series, payloadScale });
    }
    paths.push(...expected);
  }
  return paths.slice(0, files);
}

interface Run { seconds: number; cpuSeconds: number; output: string }

/** CPU seconds of this process's reaped children (Linux /proc: cutime + cstime, in clock ticks). */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100; // USER_HZ is 100 on Linux
}

/** One fresh `migscope stats --jobs N FILES…` process: wall time, its CPU time (all threads), stdout. */
function timeOnce(paths: string[], jobsUsed: number): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const cpu0 = childCpuSeconds();
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, 'stats', '--format', 'json', '--jobs', String(jobsUsed), ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1e3;
      if (code !== 0) reject(new Error(`migscope stats --jobs ${jobsUsed} exited ${code}`));
      else resolveRun({ seconds, cpuSeconds: childCpuSeconds() - cpu0, output: Buffer.concat(out).toString('utf8') });
    });
  });
}

/**
 * Sequential and pool runs alternate, and the best of each is kept: on a shared
 * machine, other load only ever adds time, so the minimum is the least disturbed run.
 */
async function compare(paths: string[]): Promise<{ sequential: Run[]; pooled: Run[] }> {
  const sequential: Run[] = [];
  const pooled: Run[] = [];
  for (let i = 0; i < repeat; i++) {
    const s = await timeOnce(paths, 1);
    const p = await timeOnce(paths, jobs);
    if (p.output !== s.output) throw new Error('pool and in-process statistics differ');
    sequential.push(s);
    pooled.push(p);
  }
  return { sequential, pooled };
}

function best(runs: Run[]): Run {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** Wall time, throughput, and CPU time ÷ wall time: the cores the run kept busy (≤ 1 sequentially). */
function line(label: string, runs: Run[], mb: number): string {
  const b = best(runs);
  return `${label.padEnd(22)} best ${b.seconds.toFixed(2)} s, ${(mb / b.seconds).toFixed(0)} MB/s, ` +
    `CPU ${b.cpuSeconds.toFixed(2)} s = ${(b.cpuSeconds / b.seconds).toFixed(2)} cores busy  [runs: ${runs.map((r) => r.seconds.toFixed(2)).join(' ')}]`;
}

const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'migscope-bench-series-'));
try {
  const g0 = performance.now();
  const paths = generate(dir);
  const mb = paths.reduce((a, p) => a + statSync(p).size, 0) / 1e6;
  console.log(`${paths.length} captures, ${runsPerFile} migration(s) each, ${mb.toFixed(0)} MB (generated in ${((performance.now() - g0) / 1e3).toFixed(1)} s)`);
  console.log(`${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), pool of ${Math.min(jobs, paths.length)} threads, ${repeat} alternating runs each`);
  const load0 = loadavg()[0]!;
  const runs = await compare(paths);
  console.log(line('sequential (--jobs 1):', runs.sequential, mb));
  console.log(line(`pool (--jobs ${jobs}):`, runs.pooled, mb));
  const ratio = best(runs.sequential).seconds / best(runs.pooled).seconds;
  console.log(`speed-up: ${ratio.toFixed(2)}x (identical statistics); load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`);
} finally {
  if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
}
