import type { CaptureFormat, ReaderStats } from '../../ingest/types.js';
import type { MigrationEnded, MigrationStarted, PhaseEvent } from '../../phases/events.js';
import { analyzeSources } from '../analyze.js';

/** What a worker is asked to do: one capture file, analysed whole. */
export interface CaptureTask {
  path: string;
}

/** The per-file part of the offline pipeline's Summary that crosses back: how the file was read. */
export interface CaptureFileSummary {
  format: CaptureFormat | 'live';
  stats?: ReaderStats;
  /** The reader's first problem (truncated tail, damaged gzip…): the file was read only in part. */
  problem?: string;
}

/**
 * One capture file's outcome. Crosses the worker boundary by structured clone, which
 * keeps bigint picoseconds as bigints: the main thread sees the very events an
 * in-process analysis would have produced.
 */
export interface CaptureFileResult {
  path: string;
  /** migration-started and migration-ended events, in wire order: all the statistics need. */
  events: (MigrationStarted | MigrationEnded)[];
  summary?: CaptureFileSummary;
  /** Set when the file could not be analysed at all (unknown format, unreadable). */
  error?: string;
}

function isMigrationBoundary(ev: PhaseEvent): ev is MigrationStarted | MigrationEnded {
  return ev.type === 'migration-started' || ev.type === 'migration-ended';
}

/**
 * Runs the offline pipeline over one capture. Never throws: a corrupt file is one
 * file's error in a series of hundreds, so it travels back as data, and the caller
 * decides how to report it.
 */
export async function analyzeCaptureFile(task: CaptureTask): Promise<CaptureFileResult> {
  const events: (MigrationStarted | MigrationEnded)[] = [];
  try {
    const summary = await analyzeSources([task.path], {
      onEvent: (ev) => {
        if (isMigrationBoundary(ev)) events.push(ev);
      },
    });
    const source = summary.sources[0];
    const out: CaptureFileSummary = { format: source?.format ?? 'live' };
    if (source?.stats !== undefined) out.stats = source.stats;
    if (source?.problem !== undefined) out.problem = source.problem;
    return { path: task.path, events, summary: out };
  } catch (err) {
    // Events seen before the failure are dropped: a half-read file would bias the means.
    return { path: task.path, events: [], error: err instanceof Error ? err.message : String(err) };
  }
}
