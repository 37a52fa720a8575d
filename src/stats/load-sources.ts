import { open, readFile } from 'node:fs/promises';
import { SourceNotFoundError } from '../core/errors.js';
import { detectFormat } from '../ingest/formats/detect.js';
import type { PhaseEvent } from '../phases/events.js';
import type { LabelTable } from './labels-csv.js';
import { joinMigrationEvents, readMigrationEventFile } from './load-events.js';
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

/** Runs the offline pipeline over one capture, keeping only the events the statistics need. */
async function* readCapture(path: string, tally: LoadTally): AsyncGenerator<MigrationRecord> {
  // Loaded on demand: event files need none of the capture/decoder stack.
  const { analyzeSources } = await import('../pipeline/offline.js');
  const kept: PhaseEvent[] = [];
  await analyzeSources([path], {
    onEvent: (ev) => {
      if (ev.type === 'migration-started' || ev.type === 'migration-ended') kept.push(ev);
    },
  });
  yield* joinMigrationEvents(kept, path, tally);
}

/** `analyze --msgpack` output (decoded whole: msgpack event files are the small ones). */
async function* readMsgpackEvents(path: string, tally: LoadTally): AsyncGenerator<MigrationRecord> {
  const { decodeMsgpackStream } = await import('../output/msgpack.js');
  let events: unknown[];
  try {
    events = decodeMsgpackStream(await readFile(path));
  } catch {
    tally.count('undecodable msgpack event file');
    return;
  }
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
          : kind === 'events-msgpack' ? readMsgpackEvents(path, options.tally)
            : readCapture(path, options.tally);
    for await (const record of records) {
      options.labels?.apply(record);
      yield record;
    }
    done += 1;
    options.onFile?.(done, paths.length, path);
  }
}
