import type { CaptureFileResult } from '../pipeline/pool/capture-task.js';
import { joinMigrationEvents } from './load-events.js';
import { LoadTally, type MigrationRecord } from './record.js';

/** One capture's migrations, with the reasons for anything skipped in it. */
export interface LoadedCapture {
  records: MigrationRecord[];
  /** Kept per file and merged in input order, so the skipped list does not depend on which worker finished first. */
  tally: LoadTally;
}

/** "path: message" unless the message already names the file (the readers' own errors do). */
function aboutFile(path: string, message: string): string {
  return message.includes(path) ? message : `${path}: ${message}`;
}

/**
 * A capture analysis (from a pool worker or this thread) → migration records. A file
 * that could not be analysed, or was read only in part, is reported under its own
 * name in the skipped-input list; the rest of the series is unaffected.
 */
export async function capturedMigrations(result: CaptureFileResult): Promise<LoadedCapture> {
  const tally = new LoadTally();
  if (result.error !== undefined) {
    tally.count(`capture not analysed: ${aboutFile(result.path, result.error)}`);
    return { records: [], tally };
  }
  const problem = result.summary?.problem;
  if (problem !== undefined) tally.count(`capture read in part: ${aboutFile(result.path, problem)}`);
  const records: MigrationRecord[] = [];
  for await (const record of joinMigrationEvents(result.events, result.path, tally)) records.push(record);
  return { records, tally };
}
