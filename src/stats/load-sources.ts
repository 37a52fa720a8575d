import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { SourceNotFoundError } from '../core/errors.js';
import { detectFormat } from '../ingest/formats/detect.js';
import type { LabelTable } from './labels-csv.js';
import type { CaptureAnalyzer } from '../pipeline/pool/capture-pool.js';
import { capturedMigrations, type LoadedCapture } from './load-captures.js';
import { joinMigrationEvents, MAX_EVENT_LINE, readMigrationEventFile } from './load-events.js';
import { readTruthFile } from './load-truth.js';
import type { LoadTally, MigrationRecord } from './record.js';

export type InputKind = 'events' | 'events-msgpack' | 'truth' | 'capture';

/**
 * What a FILE argument of `stats`/`report` holds: phase-event NDJSON (`analyze --json`)
 * or msgpack (`analyze --msgpack`), a generator truth file, or a capture (pcap, pcapng,
 * DPMI), analysed on the fly by the offline pipeline.
 */
export async function sniffInputKind(path: string): Promise<InputKind> {
  if (path.endsWith('.truth.json')) return 'truth';
  let first: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      first = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new SourceNotFoundError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (detectFormat(first) !== null) return 'capture';
  const head = first.toString('latin1');
  const trimmed = head.trimStart();
  if (trimmed.startsWith('{')) {
    // A truth file is one JSON document with a top-level "migrations" array; NDJSON
    // starts with an event object carrying "type".
    const firstLine = trimmed.split('\n', 1)[0] ?? '';
    if (/"type"\s*:/.test(firstLine)) return 'events';
    return /"migrations"\s*:/.test(head) || /"generator"\s*:/.test(head) ? 'truth' : 'events';
  }
  const b0 = first[0];
  if (b0 !== undefined && ((b0 >= 0x80 && b0 <= 0x8f) || b0 === 0xde || b0 === 0xdf)) return 'events-msgpack';
  return 'capture';
}

/**
 * `analyze --msgpack` output, streamed like NDJSON: values of at most MAX_EVENT_LINE
 * bytes, never the whole file in memory. Undecodable bytes or a value past the limit end
 * the file there, counted; the migrations before them are kept.
 */
async function* readMsgpackEvents(path: string, tally: LoadTally): AsyncGenerator<MigrationRecord> {
  const { decodeMsgpackValues } = await import('../core/msgpack.js');
  const values = decodeMsgpackValues(createReadStream(path) as AsyncIterable<Buffer>, MAX_EVENT_LINE,
    (what) => tally.count(what === 'too-long' ? `msgpack value longer than ${MAX_EVENT_LINE >> 20} MiB (rest of the file unread)`
      : 'msgpack file ends inside a value'));
  async function* guarded(): AsyncGenerator<unknown> {
    try {
      yield* values;
    } catch {
      tally.count('undecodable msgpack (rest of the file unread)');
    }
  }
  yield* joinMigrationEvents(guarded(), path, tally);
}

export interface LoadOptions {
  tally: LoadTally;
  labels?: LabelTable;
  /** Capture files analysed at once in worker threads (default: defaultJobs(), one per core for a big series); 1 = in this thread. */
  jobs?: number;
  /**
   * Called as each file is done (for a progress bar): captures in the order the workers
   * finish them, other files in input order. `migrations` = that file's records.
   */
  onFile?: (done: number, total: number, path: string, migrations: number) => void;
}

/** The capture analyzer (piscina pool or in-process), loaded only when there are captures. */
async function captureAnalyzer(jobs: number | undefined, captures: readonly string[]): Promise<CaptureAnalyzer | undefined> {
  if (captures.length === 0) return undefined; // event files need none of the capture/decoder stack
  const { openCaptureAnalyzer, defaultJobs, totalBytes } = await import('../pipeline/pool/capture-pool.js');
  return openCaptureAnalyzer(jobs ?? defaultJobs(await totalBytes(captures)), captures.length);
}

async function recordsOf(kind: InputKind, path: string, tally: LoadTally): Promise<Iterable<MigrationRecord> | AsyncIterable<MigrationRecord>> {
  return kind === 'truth' ? await readTruthFile(path, tally)
    : kind === 'events' ? readMigrationEventFile(path, tally)
      : readMsgpackEvents(path, tally);
}

/**
 * Every migration of every input, in input order, with CSV labels applied. Captures
 * are all queued at once (the pool runs `jobs` of them at a time) and their records
 * taken in input order, so the result is the same whatever the number of jobs.
 */
export async function* loadMigrations(paths: readonly string[], options: LoadOptions): AsyncGenerator<MigrationRecord> {
  // Sniffed first: a missing file stops the run before minutes of analysis, not after.
  const kinds: InputKind[] = [];
  for (const path of paths) kinds.push(await sniffInputKind(path));
  const analyzer = await captureAnalyzer(options.jobs, paths.filter((_, i) => kinds[i] === 'capture'));
  let done = 0;
  let stopped = false;
  const fileDone = (path: string, migrations: number): void => {
    if (stopped) return; // files cancelled after the caller gave up: no progress to show
    done += 1;
    options.onFile?.(done, paths.length, path, migrations);
  };
  const captures = paths.map((path, i): Promise<LoadedCapture> | undefined => (kinds[i] !== 'capture' || !analyzer ? undefined
    : analyzer.analyze(path).then(capturedMigrations).then((loaded) => {
      fileDone(path, loaded.records.length);
      return loaded;
    })));
  try {
    for (const [i, path] of paths.entries()) {
      const capture = captures[i];
      if (capture !== undefined) {
        const loaded = await capture;
        options.tally.merge(loaded.tally);
        for (const record of loaded.records) {
          options.labels?.apply(record);
          yield record;
        }
        continue;
      }
      let migrations = 0;
      for await (const record of await recordsOf(kinds[i]!, path, options.tally)) {
        options.labels?.apply(record);
        migrations += 1;
        yield record;
      }
      fileDone(path, migrations);
    }
  } finally {
    stopped = true;
    await analyzer?.close();
  }
}
