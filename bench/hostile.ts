/**
 * `npm run bench -- --hostile`: each growing case of issue 10 built at N and 4N with the
 * hostile-input suite's crafting helper, then analysed by the CLI under GNU time. The
 * ratio of the CPU time spent on the attack (the run minus the same command on the
 * migration alone) between 4N and N shows the complexity: linear ≈ 4, quadratic ≈ 16.
 * Peak RSS is reported at 4N for both paths (pure-TS and `--workers 2`), each with its
 * output to /dev/null and to a slow pipe reader (backpressure).
 *
 *   npm run bench -- --hostile            full sizes (a few minutes)
 *   npm run bench -- --hostile --smoke    tiny sizes (seconds; ratios are noise)
 *   npm run bench -- --hostile --only SYN the cases whose name contains SYN (no results file)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CraftedCapture, hashCollisionFlood, manyOutOfOrderFlows, qemuZeroPages, reassemblyFlood, synFlood,
} from '../test/hostile/craft-packets.js';
import { measure } from './measure.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const root = resolve(here, '../..');
const cli = join(root, 'bin/migscope.js');
const slowReader = join(here, 'slow-reader.js');

interface HostileCase {
  name: string;
  /** N at full size; the smoke run uses N / 50. */
  n: number;
  unit: string;
  build: (c: CraftedCapture, n: number) => void;
}

const CASES: HostileCase[] = [
  { name: 'reassembly, 1-byte segments descending', n: 250_000, unit: 'segments', build: (c, n) => reassemblyFlood(c, n, 'descending') },
  { name: 'reassembly, 1-byte segments random order', n: 100_000, unit: 'segments', build: (c, n) => reassemblyFlood(c, n, 'random') },
  { name: 'SYN flood to 16509, random sources', n: 100_000, unit: 'SYNs', build: (c, n) => synFlood(c, n, 16509) },
  { name: 'SYN flood to an unknown port', n: 500_000, unit: 'SYNs', build: (c, n) => synFlood(c, n, 7777) },
  { name: 'flow-hash collisions (address xor port constant)', n: 100_000, unit: 'flows', build: (c, n) => hashCollisionFlood(c, n) },
  { name: 'QEMU zero pages at descending addresses', n: 750_000, unit: 'pages', build: (c, n) => qemuZeroPages(c, n) },
  { name: 'many flows holding 2 MiB out of order', n: 25, unit: 'flows', build: (c, n) => manyOutOfOrderFlows(c, n, 2 << 20) },
];

/** How the 4N capture is analysed for peak RSS: each path, output to /dev/null or to a slow pipe reader. */
const MODES = [
  { key: 'ts', label: 'pure-TS, /dev/null', args: [] as string[], pipe: false },
  { key: 'tsPipe', label: 'pure-TS, slow pipe', args: [] as string[], pipe: true },
  { key: 'w2', label: '--workers 2, /dev/null', args: ['--workers', '2'], pipe: false },
  { key: 'w2Pipe', label: '--workers 2, slow pipe', args: ['--workers', '2'], pipe: true },
] as const;
type ModeKey = (typeof MODES)[number]['key'];

export interface HostileRow {
  name: string; unit: string; n: number;
  cpuN: number; cpu4N: number; cpuBase: number; ratio: number;
  /** Peak RSS at 4N per mode (MiB). */
  rssMiB: Record<ModeKey, number>;
  /** Exit codes: N, then 4N in each mode. */
  exitCodes: number[];
}

/** The peak RSS every mode must stay under (issue 10, "Done when"). */
const RSS_GOAL_MIB = 512;

function craft(dir: string, name: string, build: ((c: CraftedCapture) => void) | null): string {
  const file = join(dir, `${name}.pcap`);
  const c = new CraftedCapture(file);
  if (build !== null) build(c);
  c.migration({ scenario: 'kvm', seed: 11 });
  c.close();
  return file;
}

async function run(file: string, extra: readonly string[] = [], pipe = false): Promise<{ cpu: number; rss: number; code: number }> {
  const m = await measure([process.execPath, cli, 'analyze', file, '--json', ...extra], {
    timeoutMs: 600_000, ...(pipe ? { stdoutPipe: [process.execPath, slowReader] } : {}),
  });
  return { cpu: m.cpuSeconds, rss: m.maxRssBytes, code: m.exitCode };
}

export async function runHostileBench(argv: string[]): Promise<HostileRow[]> {
  const smoke = argv.includes('--smoke');
  // `--only TEXT`: the cases whose name contains TEXT (a partial run writes no results file).
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1] ?? '' : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'mgs-hostile-'));
  const rows: HostileRow[] = [];
  try {
    const base = await run(craft(dir, 'base', null));
    for (const hc of CASES) {
      if (only !== undefined && !hc.name.includes(only)) continue;
      const n = smoke ? Math.max(2, Math.floor(hc.n / 50)) : hc.n;
      const fileN = craft(dir, 'n', (c) => hc.build(c, n));
      const rN = await run(fileN);
      rmSync(fileN);
      const file4N = craft(dir, '4n', (c) => hc.build(c, 4 * n));
      const byMode = {} as Record<ModeKey, { cpu: number; rss: number; code: number }>;
      for (const mode of MODES) byMode[mode.key] = await run(file4N, mode.args, mode.pipe);
      rmSync(file4N);
      const r4N = byMode.ts;
      const rssMiB = {} as Record<ModeKey, number>;
      for (const mode of MODES) rssMiB[mode.key] = byMode[mode.key].rss / 2 ** 20;
      const row: HostileRow = {
        name: hc.name, unit: hc.unit, n, cpuN: rN.cpu, cpu4N: r4N.cpu, cpuBase: base.cpu,
        ratio: (r4N.cpu - base.cpu) / Math.max(0.01, rN.cpu - base.cpu),
        rssMiB, exitCodes: [rN.code, ...MODES.map((m) => byMode[m.key].code)],
      };
      rows.push(row);
      process.stderr.write(`bench --hostile: ${hc.name}: ratio ${row.ratio.toFixed(2)}, peak RSS ${MODES.map((m) => `${m.label} ${rssMiB[m.key].toFixed(0)} MiB`).join(', ')}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const md = renderHostile(rows, smoke);
  if (only === undefined) writeFileSync(join(root, 'bench/results', smoke ? 'hostile-smoke.md' : 'hostile.md'), md);
  process.stdout.write(md);
  return rows;
}

function renderHostile(rows: HostileRow[], smoke: boolean): string {
  const over = rows.flatMap((r) => MODES.filter((m) => r.rssMiB[m.key] >= RSS_GOAL_MIB).map((m) => `${r.name} (${m.label})`));
  const lines = [
    `# Hostile input: time ratio N → 4N and peak RSS (${smoke ? 'smoke sizes' : 'full sizes'}, default --max-memory 256 MiB)`,
    '',
    'CPU seconds (user + system) of `migscope analyze FILE --json`; the ratio is net of the run on the migration alone',
    `(${rows[0]?.cpuBase.toFixed(2) ?? '?'} s): linear ≈ 4, quadratic ≈ 16. Peak RSS (GNU time) of the 4N run in each mode;`,
    '"slow pipe": stdout piped to a reader taking 64 KiB every 2 ms (bench/slow-reader.ts). Exit codes: N, then 4N per mode.',
    '',
    `| case | N | CPU at N (s) | CPU at 4N (s) | ratio | ${MODES.map((m) => `peak RSS, ${m.label} (MiB)`).join(' | ')} | exit codes |`,
    `|---|---:|---:|---:|---:|${MODES.map(() => '---:|').join('')}---|`,
    ...rows.map((r) => `| ${r.name} | ${r.n.toLocaleString('en')} ${r.unit} | ${r.cpuN.toFixed(2)} | ${r.cpu4N.toFixed(2)} | ${r.ratio.toFixed(2)} | ${MODES.map((m) => r.rssMiB[m.key].toFixed(0)).join(' | ')} | ${r.exitCodes.join('/')} |`),
    '',
    over.length === 0 ? `Every case stays under ${RSS_GOAL_MIB} MiB peak RSS in every mode.` : `Over ${RSS_GOAL_MIB} MiB: ${over.join('; ')}.`,
    '',
  ];
  return lines.join('\n');
}
