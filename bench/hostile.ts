/**
 * `npm run bench -- --hostile`: each growing case of issue 10 built at N and 4N with the
 * hostile-input suite's crafting helper, then analysed by the CLI under GNU time. The
 * ratio of the CPU time spent on the attack (the run minus the same command on the
 * migration alone) between 4N and N shows the complexity: linear ≈ 4, quadratic ≈ 16.
 * Peak RSS is reported for both paths (pure-TS and `--workers 2`) at 4N.
 *
 *   npm run bench -- --hostile            full sizes (a few minutes)
 *   npm run bench -- --hostile --smoke    tiny sizes (seconds; ratios are noise)
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

export interface HostileRow {
  name: string; unit: string; n: number;
  cpuN: number; cpu4N: number; cpuBase: number; ratio: number;
  rssMiB: number; rssWorkersMiB: number; exitCodes: number[];
}

function craft(dir: string, name: string, build: ((c: CraftedCapture) => void) | null): string {
  const file = join(dir, `${name}.pcap`);
  const c = new CraftedCapture(file);
  if (build !== null) build(c);
  c.migration({ scenario: 'kvm', seed: 11 });
  c.close();
  return file;
}

async function run(file: string, extra: string[] = []): Promise<{ cpu: number; rss: number; code: number }> {
  const m = await measure([process.execPath, cli, 'analyze', file, '--json', ...extra], { timeoutMs: 600_000 });
  return { cpu: m.cpuSeconds, rss: m.maxRssBytes, code: m.exitCode };
}

export async function runHostileBench(argv: string[]): Promise<HostileRow[]> {
  const smoke = argv.includes('--smoke');
  const dir = mkdtempSync(join(tmpdir(), 'mgs-hostile-'));
  const rows: HostileRow[] = [];
  try {
    const base = await run(craft(dir, 'base', null));
    for (const hc of CASES) {
      const n = smoke ? Math.max(2, Math.floor(hc.n / 50)) : hc.n;
      const fileN = craft(dir, 'n', (c) => hc.build(c, n));
      const rN = await run(fileN);
      rmSync(fileN);
      const file4N = craft(dir, '4n', (c) => hc.build(c, 4 * n));
      const r4N = await run(file4N);
      const rW = await run(file4N, ['--workers', '2']);
      rmSync(file4N);
      const row: HostileRow = {
        name: hc.name, unit: hc.unit, n, cpuN: rN.cpu, cpu4N: r4N.cpu, cpuBase: base.cpu,
        ratio: (r4N.cpu - base.cpu) / Math.max(0.01, rN.cpu - base.cpu),
        rssMiB: r4N.rss / 2 ** 20, rssWorkersMiB: rW.rss / 2 ** 20, exitCodes: [rN.code, r4N.code, rW.code],
      };
      rows.push(row);
      process.stderr.write(`bench --hostile: ${hc.name}: ratio ${row.ratio.toFixed(2)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const md = renderHostile(rows, smoke);
  writeFileSync(join(root, 'bench/results', smoke ? 'hostile-smoke.md' : 'hostile.md'), md);
  process.stdout.write(md);
  return rows;
}

function renderHostile(rows: HostileRow[], smoke: boolean): string {
  const lines = [
    `# Hostile input: time ratio N → 4N and peak RSS (${smoke ? 'smoke sizes' : 'full sizes'}, default --max-memory 256 MiB)`,
    '',
    'CPU seconds (user + system) of `migscope analyze FILE --json`; the ratio is net of the run on the migration alone',
    `(${rows[0]?.cpuBase.toFixed(2) ?? '?'} s): linear ≈ 4, quadratic ≈ 16.`,
    '',
    '| case | N | CPU at N (s) | CPU at 4N (s) | ratio | peak RSS at 4N (MiB) | with --workers 2 (MiB) | exit codes |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.name} | ${r.n.toLocaleString('en')} ${r.unit} | ${r.cpuN.toFixed(2)} | ${r.cpu4N.toFixed(2)} | ${r.ratio.toFixed(2)} | ${r.rssMiB.toFixed(0)} | ${r.rssWorkersMiB.toFixed(0)} | ${r.exitCodes.join('/')} |`),
    '',
  ];
  return lines.join('\n');
}
