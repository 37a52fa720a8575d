import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where one thread's time goes: self time per function of one `node --cpu-prof` run. */
export interface ThreadProfile {
  /** 'main', or 'worker N' in the order node wrote the profiles. */
  thread: string;
  /** Sampled time of the thread (ms), waiting included; the profiler's overhead inflates it a little. */
  totalMs: number;
  /** Of it, idle (waiting for the event loop) and blocked in Atomics.wait (flow control). */
  idleMs: number;
  top: { fn: string; where: string; ms: number; share: number }[];
}

/** Where a migscope path's time goes (pure-TS: one thread; --workers: main + each worker). */
export interface CpuProfileSummary {
  trace: string;
  /** The subject profiled, e.g. 'migscope pure-TS'. */
  subject: string;
  /** Sampled time of the main thread (ms). */
  totalMs: number;
  /** The main thread's top functions (the pure-TS path's only thread). */
  top: ThreadProfile['top'];
  threads: ThreadProfile[];
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Functions whose self time is waiting, not work. */
const WAITING = new Set(['(idle)', 'mustWait']);

function summarise(p: CpuProfile, thread: string, top: number): ThreadProfile {
  const byNode = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) byNode.set(p.samples[i]!, (byNode.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFn = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const n of p.nodes) {
    const us = byNode.get(n.id) ?? 0;
    total += us;
    const cf = n.callFrame;
    const fn = cf.functionName || '(anonymous)';
    if (WAITING.has(fn)) idle += us;
    const where = cf.url === '' ? '' : `${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    const key = `${fn} ${where}`;
    const e = byFn.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    byFn.set(key, e);
  }
  const rows = [...byFn.values()].filter((e) => !WAITING.has(e.fn)).sort((a, b) => b.us - a.us).slice(0, top)
    .map((e) => ({ fn: e.fn, where: e.where, ms: e.us / 1000, share: total > 0 ? e.us / total : 0 }));
  return { thread, totalMs: total / 1000, idleMs: idle / 1000, top: rows };
}

/**
 * Profiles `migscope analyze [extra…] FILE` (every thread: node writes one profile per
 * thread) and returns the `top` functions by self time of each.
 */
export function profileMigscope(cli: string, file: string, trace: string, subject: string, extra: string[] = [], top = 12): CpuProfileSummary {
  const dir = mkdtempSync(join(tmpdir(), 'mgs-bench-prof-'));
  try {
    execFileSync('node', ['--cpu-prof', '--cpu-prof-dir', dir, cli, 'analyze', ...extra, file], { stdio: 'ignore' });
    // Names end in <pid>.<thread id>.<seq>.cpuprofile: the main thread is thread 0.
    const names = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ f, thread: Number(f.split('.').at(-3)) })).sort((a, b) => a.thread - b.thread);
    if (names.length === 0) throw new Error('node wrote no CPU profile');
    const threads = names.map((n, i) => summarise(JSON.parse(readFileSync(join(dir, n.f), 'utf8')) as CpuProfile,
      i === 0 ? 'main' : `worker ${i - 1}`, top));
    return { trace, subject, totalMs: threads[0]!.totalMs, top: threads[0]!.top, threads };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Profiles `migscope analyze FILE` (the pure-TS path, one thread). */
export function profilePureTs(cli: string, file: string, trace: string, top = 12): CpuProfileSummary {
  return profileMigscope(cli, file, trace, 'migscope pure-TS', [], top);
}
