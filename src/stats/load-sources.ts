import { open } from 'node:fs/promises';
import { SourceNotFoundError, UsageError } from '../core/errors.js';
import type { LabelTable } from './labels-csv.js';
import { joinMigrationEvents, readMigrationEventFile } from './load-events.js';
import { readTruthFile } from './load-truth.js';
import type { LoadTally, MigrationRecord } from './record.js';

export type InputKind = 'events' | 'truth' | 'capture';

/**
 * What a FILE argument of `stats`/`report` holds: phase-event NDJSON (`analyze --json`),
 * a generator truth file, or anything else — a capture, handed to the offline pipeline.
 */
export async function sniffInputKind(path: string): Promise<InputKind> {
  if (path.endsWith('.truth.json')) return 'truth';
  let head: string;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead).toString('latin1');
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new SourceNotFoundError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const trimmed = head.trimStart();
  if (!trimmed.startsWith('{')) return 'capture';
  // A truth file is one JSON document with a top-level "migrations" array; NDJSON
  // starts with an event object carrying "type".
  const firstLine = trimmed.split('\n', 1)[0] ?? '';
  if (/"type"\s*:/.test(firstLine)) return 'events';
  return /"migrations"\s*:/.test(head) || /"generator"\s*:/.test(head) ? 'truth' : 'events';
}

/** The offline pipeline's entry point (src/pipeline/offline.ts, H6). */
type AnalyzeSources = (sources: string[]) => AsyncIterable<unknown> | Iterable<unknown> | Promise<Iterable<unknown>>;

async function loadAnalyzeSources(): Promise<AnalyzeSources> {
  // Resolved at run time so that stats/report build and run on event files even in a
  // tree without the capture pipeline.
  const modulePath = '../pipeline/offline.js';
  let mod: { analyzeSources?: unknown };
  try {
    mod = (await import(modulePath)) as { analyzeSources?: unknown };
  } catch {
    throw new UsageError('capture files need the offline pipeline, which this build lacks: run `migscope analyze --json` first and pass the NDJSON');
  }
  if (typeof mod.analyzeSources !== 'function') {
    throw new UsageError('the offline pipeline has no analyzeSources(): pass `migscope analyze --json` output instead');
  }
  return mod.analyzeSources as AnalyzeSources;
}

async function* readCapture(path: string, tally: LoadTally): AsyncGenerator<MigrationRecord> {
  const analyzeSources = await loadAnalyzeSources();
  const events = await analyzeSources([path]);
  yield* joinMigrationEvents(events, path, tally);
}

export interface LoadOptions {
  tally: LoadTally;
  labels?: LabelTable;
  /** Called after each file (for a progress bar). */
  onFile?: (done: number, total: number, path: string) => void;
}

/** Every migration of every input, in input order, with CSV labels applied. */
export async function* loadMigrations(paths: readonly string[], options: LoadOptions): AsyncGenerator<MigrationRecord> {
  let done = 0;
  for (const path of paths) {
    const kind = await sniffInputKind(path);
    const records: AsyncIterable<MigrationRecord> | Iterable<MigrationRecord> =
      kind === 'truth' ? await readTruthFile(path, options.tally)
        : kind === 'events' ? readMigrationEventFile(path, options.tally)
          : readCapture(path, options.tally);
    for await (const record of records) {
      options.labels?.apply(record);
      yield record;
    }
    done += 1;
    options.onFile?.(done, paths.length, path);
  }
}
