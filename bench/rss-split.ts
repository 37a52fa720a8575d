import { readdirSync, readFileSync } from 'node:fs';

/**
 * Peak resident memory of a running command, split the way the kernel counts it
 * (/proc/PID/status): RssAnon, the process's private memory (heap, stacks), and
 * RssFile, pages of mapped files — the capture mapping of `MIGSCOPE_FILE_IO=mmap` and of
 * the file split, page cache shared with every reader of the file. GNU time's peak RSS
 * counts both as one; the issue asks for the mapping to be reported apart.
 * Sampled every `intervalMs`, so a peak shorter than that can be missed.
 */
export interface RssSplit {
  /** Highest RssAnon of any process of the command seen in a sample (bytes). */
  anonBytes: number;
  /** Highest RssFile + RssShmem of any process of the command seen in a sample (bytes). */
  fileBytes: number;
  samples: number;
}

/** Samples `rootPid` and its descendants until stop() is called. Linux only; else zeros. */
export function sampleRssSplit(rootPid: number, intervalMs = 20): { stop: () => RssSplit } {
  const peak: RssSplit = { anonBytes: 0, fileBytes: 0, samples: 0 };
  const sample = (): void => {
    for (const pid of descendants(rootPid)) {
      const s = statusOf(pid);
      if (s === undefined) continue;
      peak.anonBytes = Math.max(peak.anonBytes, s.anon);
      peak.fileBytes = Math.max(peak.fileBytes, s.file);
    }
    peak.samples++;
  };
  const timer = setInterval(sample, intervalMs);
  return { stop: () => { clearInterval(timer); return peak; } };
}

/** rootPid and every process below it (bounded: a process tree of at most 64). */
function descendants(rootPid: number): number[] {
  const out: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0 && out.length < 64) {
    const pid = queue.shift()!;
    out.push(pid);
    let tasks: string[] = [];
    try { tasks = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ')) if (c.trim() !== '') queue.push(Number(c));
      } catch { /* the task ended between the two reads */ }
    }
  }
  return out;
}

function statusOf(pid: number): { anon: number; file: number } | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return undefined; }
  const kb = (field: string): number => {
    const at = text.indexOf(`\n${field}:`);
    if (at < 0) return 0;
    return Number.parseInt(text.slice(at + field.length + 2).trimStart(), 10) * 1024 || 0;
  };
  return { anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
}
