import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { analyzeCaptureFile, type CaptureFileResult, type CaptureTask } from './capture-task.js';
import { captureWorkerScript } from './worker-script.js';

/**
 * Capture data a worker must have to earn its start-up: each worker loads the pipeline
 * modules and warms up its JIT on its own. A pool of two spends 0.6–0.8 s more CPU
 * than one thread (bench/series.ts), ~300 MB of analysis at ~450 MB/s; from 256 MiB a
 * thread on, the pool is ahead (2 cores: 1.16× at 0.94 GB, 1.56× at 2.8 GB).
 */
export const MIN_BYTES_PER_THREAD = 256 * 1024 * 1024;

/**
 * Default `--jobs`: one worker per core, since a capture's analysis is CPU-bound, but
 * no more than the data keeps busy: a small series is faster in this thread.
 */
export function defaultJobs(captureBytes: number): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(captureBytes / MIN_BYTES_PER_THREAD)));
}

/**
 * Analyses capture files, one task per file. Files of a series are independent, so
 * with jobs > 1 they go to a piscina pool of worker threads; with jobs = 1 (or a
 * single file) they are analysed one after the other in this thread, as before the
 * pool existed. Either way every result comes back through the same function
 * (analyzeCaptureFile), so the two paths cannot drift apart.
 */
export interface CaptureAnalyzer {
  readonly threads: number;
  /** Never rejects: a failed file resolves with `error` set. */
  analyze(path: string): Promise<CaptureFileResult>;
  /** Stops the workers; tasks still queued resolve with an error. */
  close(): Promise<void>;
}

/** Serial, in this thread: each file starts once the previous one is done. */
class InProcessAnalyzer implements CaptureAnalyzer {
  readonly threads = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  analyze(path: string): Promise<CaptureFileResult> {
    const result = this.tail.then((): Promise<CaptureFileResult> | CaptureFileResult =>
      // Closed early (the caller gave up on the series): skip the files still queued.
      this.closed ? { path, events: [], error: 'analysis cancelled' } : analyzeCaptureFile({ path }));
    this.tail = result;
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }
}

class PooledAnalyzer implements CaptureAnalyzer {
  private readonly pool: Piscina<CaptureTask, CaptureFileResult>;

  constructor(readonly threads: number) {
    this.pool = new Piscina<CaptureTask, CaptureFileResult>({
      filename: pathToFileURL(captureWorkerScript()).href,
      minThreads: threads,
      maxThreads: threads,
      // One file at a time per worker: a task is CPU-bound from start to end.
      concurrentTasksPerWorker: 1,
    });
  }

  analyze(path: string): Promise<CaptureFileResult> {
    // A rejection here is the worker's, not the file's (worker crashed, pool destroyed):
    // still reported against the file so the rest of the series goes on.
    return this.pool.run({ path }).catch((err: unknown) => ({
      path, events: [], error: `worker failed: ${err instanceof Error ? err.message : String(err)}`,
    }));
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/**
 * An analyzer for `files` capture files with up to `jobs` threads. No pool for one
 * job or one file: worker start-up (loading the pipeline modules) would cost more
 * than it saves.
 */
export function openCaptureAnalyzer(jobs: number, files: number): CaptureAnalyzer {
  const threads = Math.min(jobs, files);
  return threads <= 1 ? new InProcessAnalyzer() : new PooledAnalyzer(threads);
}

export interface AnalyzeFilesOptions {
  /** Default: defaultJobs() of the files' total size. */
  jobs?: number;
  /** Called as each file finishes, in completion order (for a progress bar). */
  onResult?: (result: CaptureFileResult, done: number, total: number) => void;
}

/** Every file analysed, results in input order whatever order the workers finish in. */
export async function analyzeCaptureFiles(paths: readonly string[], options: AnalyzeFilesOptions = {}): Promise<CaptureFileResult[]> {
  const analyzer = openCaptureAnalyzer(options.jobs ?? defaultJobs(await totalBytes(paths)), paths.length);
  let done = 0;
  try {
    return await Promise.all(paths.map(async (path) => {
      const result = await analyzer.analyze(path);
      done += 1;
      options.onResult?.(result, done, paths.length);
      return result;
    }));
  } finally {
    await analyzer.close();
  }
}

/** Bytes on disk of these files (gzip: compressed size, so an underestimate of the work). */
export async function totalBytes(paths: readonly string[]): Promise<number> {
  let sum = 0;
  for (const path of paths) sum += (await stat(path)).size;
  return sum;
}
