import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the pure-TS path's time goes: self time per function of one `node --cpu-prof` run. */
export interface CpuProfileSummary {
  trace: string;
  /** Sampled time of the whole run (ms); the profiler's overhead inflates it a little. */
  totalMs: number;
  top: { fn: string; where: string; ms: number; share: number }[];
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Profiles `migscope analyze FILE` and returns the `top` functions by self time. */
export function profilePureTs(cli: string, file: string, trace: string, top = 12): CpuProfileSummary {
  const dir = mkdtempSync(join(tmpdir(), 'mgs-bench-prof-'));
  try {
    execFileSync('node', ['--cpu-prof', '--cpu-prof-dir', dir, cli, 'analyze', file], { stdio: 'ignore' });
    const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (name === undefined) throw new Error('node wrote no CPU profile');
    const p = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
    const byNode = new Map<number, number>();
    for (let i = 0; i < p.samples.length; i++) byNode.set(p.samples[i]!, (byNode.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
    const byFn = new Map<string, { fn: string; where: string; us: number }>();
    let total = 0;
    for (const n of p.nodes) {
      const us = byNode.get(n.id) ?? 0;
      total += us;
      const cf = n.callFrame;
      const where = cf.url === '' ? '' : `${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
      const fn = cf.functionName || '(anonymous)';
      const key = `${fn} ${where}`;
      const e = byFn.get(key) ?? { fn, where, us: 0 };
      e.us += us;
      byFn.set(key, e);
    }
    const rows = [...byFn.values()].sort((a, b) => b.us - a.us).slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, ms: e.us / 1000, share: total > 0 ? e.us / total : 0 }));
    return { trace, totalMs: total / 1000, top: rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
