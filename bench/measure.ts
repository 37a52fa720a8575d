import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleRssSplit } from './rss-split.js';

/** One timed run of an external command: wall time and peak resident set size. */
export interface Measurement {
  wallSeconds: number;
  /** User + system CPU time of the command and its threads (children it waited for too). */
  cpuSeconds: number;
  maxRssBytes: number;
  /** Peak private (RssAnon) and file-backed (RssFile + RssShmem) memory, sampled (./rss-split.ts). */
  peakAnonBytes: number;
  peakFileBytes: number;
  exitCode: number;
  stderrTail: string;
  /** Killed at the time limit: wallSeconds is the limit, a lower bound of its real time. */
  timedOut: boolean;
}

/**
 * Runs `argv` under GNU time (`/usr/bin/time -f`), which reports the child's own peak
 * RSS from wait4(2): honest for any program, ours or a peer's. stdout goes to
 * /dev/null unless `stdoutFile` is given (we measure decoding, not terminal output).
 */
export async function measure(argv: string[], opts: { stdoutFile?: string; stdoutPipe?: string[]; timeoutMs?: number } = {}): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'mgs-bench-'));
  const timeFile = join(dir, 'time');
  const codeFile = join(dir, 'code');
  const shellRedirect = opts.stdoutFile ?? '/dev/null';
  const quote = (args: string[]): string => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const timed = `/usr/bin/time -o '${timeFile}' -f '%e %M %U %S' ${quote(argv)}`;
  // Piped: the command's status is kept in a file (sh has no pipefail); the reader's output is dropped.
  const script = opts.stdoutPipe !== undefined
    ? `{ ${timed}; echo $? > '${codeFile}'; } | ${quote(opts.stdoutPipe)} > /dev/null`
    : `exec ${timed} > '${shellRedirect}'`;
  const started = process.hrtime.bigint();
  let timedOut = false;
  let split: { anonBytes: number; fileBytes: number } | undefined;
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolveRun) => {
    // Own process group: at the limit the whole group goes (time(1) and the command it
    // runs), not only the shell, so no orphan keeps loading the machine.
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const sampler = child.pid !== undefined ? sampleRssSplit(child.pid) : undefined;
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, opts.timeoutMs ?? 30 * 60_000);
    child.on('close', (c) => {
      clearTimeout(timer);
      split = sampler?.stop();
      resolveRun({ code: c ?? 1, stderr: err });
    });
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  let wallSeconds = elapsed;
  let maxRssBytes = 0;
  let cpuSeconds = Number.NaN;
  try {
    const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
    const [wall, rssKb, user, sys] = lines[lines.length - 1]!.split(' ');
    // GNU time reports 10 ms resolution; keep our own finer clock when it is finer.
    wallSeconds = Math.max(Number(wall) > 0 ? Math.min(Number(wall), elapsed) : elapsed, 1e-6);
    maxRssBytes = Number(rssKb) * 1024;
    cpuSeconds = Number(user) + Number(sys);
  } catch {
    /* time(1) output missing: the command was killed; keep the wall clock */
  }
  let exitCode = code;
  if (opts.stdoutPipe !== undefined) {
    try { exitCode = Number(readFileSync(codeFile, 'utf8').trim()); } catch { exitCode = code === 0 ? 1 : code; }
  }
  rmSync(dir, { recursive: true, force: true });
  if (timedOut) wallSeconds = (opts.timeoutMs ?? 0) / 1000;
  return {
    wallSeconds, cpuSeconds, maxRssBytes, peakAnonBytes: split?.anonBytes ?? 0, peakFileBytes: split?.fileBytes ?? 0,
    exitCode, stderrTail: stderr.slice(-500), timedOut,
  };
}
