import { createReadStream } from 'node:fs';
import type { Picos } from '../core/time.js';
import type { Scenario } from '../phases/events.js';
import {
  inferScenario, isRecord, labelsField, outcomeField, phasesField, picosField, scenarioField, stringField,
} from './json-fields.js';
import type { LoadTally, MigrationRecord } from './record.js';

/**
 * Reader of phase-event NDJSON (`migscope analyze --json`): one MigrationRecord per
 * `migration-ended`, joined with its `migration-started` (scenario, labels). Only the
 * started-events of migrations still open are kept, so memory is bounded by the number
 * of concurrent migrations, not by the file; every other event type is skipped without
 * being parsed. Bad lines are counted, never thrown.
 */

interface OpenMigration {
  ts: Picos | undefined;
  scenario: Scenario | undefined;
  labels: Record<string, string>;
}

/** Cheap test before JSON.parse: progress events dominate big files and are not needed. */
const MIGRATION_EVENT = /"type"\s*:\s*"migration-(started|ended)"/;

/** NDJSON lines → the migration-started/-ended objects among them (others skipped unparsed). */
async function* migrationEventObjects(lines: AsyncIterable<string>, tally: LoadTally): AsyncGenerator<unknown> {
  for await (const line of lines) {
    if (!MIGRATION_EVENT.test(line)) {
      if (line.trim() !== '' && !line.trimStart().startsWith('{')) tally.count('non-JSON line');
      continue;
    }
    try {
      yield JSON.parse(line);
    } catch {
      tally.count('unparsable JSON line');
    }
  }
}

export function readMigrationEvents(
  lines: AsyncIterable<string>,
  origin: string,
  tally: LoadTally,
): AsyncGenerator<MigrationRecord> {
  return joinMigrationEvents(migrationEventObjects(lines, tally), origin, tally);
}

/**
 * Phase events (parsed JSON with decimal-string bigints, or in-memory events with
 * bigints, as the offline pipeline yields them) → one record per migration.
 */
export async function* joinMigrationEvents(
  events: AsyncIterable<unknown> | Iterable<unknown>,
  origin: string,
  tally: LoadTally,
): AsyncGenerator<MigrationRecord> {
  const open = new Map<string, OpenMigration>();
  for await (const event of events) {
    if (!isRecord(event)) {
      tally.count('event is not an object');
      continue;
    }
    const type = event['type'];
    if (type !== 'migration-started' && type !== 'migration-ended') continue;
    const id = stringField(event['migration']);
    if (id === undefined || id === '') {
      tally.count('migration event without a migration id');
      continue;
    }
    if (type === 'migration-started') {
      open.set(id, {
        ts: picosField(event['ts']),
        scenario: scenarioField(event['scenario']),
        labels: labelsField(event['labels']),
      });
      continue;
    }
    const outcome = outcomeField(event['outcome']);
    if (outcome === undefined) {
      tally.count('migration-ended without a known outcome');
      continue;
    }
    const started = open.get(id);
    open.delete(id);
    const phases = phasesField(event['phases'], (reason) => tally.count(reason));
    const record: MigrationRecord = {
      origin,
      id,
      scenario: started?.scenario ?? inferScenario(phases),
      labels: started?.labels ?? {},
      outcome,
      phases,
    };
    if (started === undefined) tally.count('migration-ended without migration-started (labels unknown)');
    const reason = stringField(event['reason']);
    if (reason !== undefined) record.reason = reason;
    if (started?.ts !== undefined) record.startTs = started.ts;
    const total = picosField(event['total']);
    if (total !== undefined) record.total = total;
    const libvirtTotal = picosField(event['libvirtTotal']);
    if (libvirtTotal !== undefined) record.libvirtTotal = libvirtTotal;
    const downtime = picosField(event['downtime']);
    if (downtime !== undefined) record.downtime = downtime;
    yield record;
  }
  // Started but never ended: the capture stopped mid-migration. Reported as incomplete.
  for (const [id, started] of open) {
    const record: MigrationRecord = {
      origin, id, scenario: started.scenario, labels: started.labels,
      outcome: 'incomplete', reason: 'no migration-ended event', phases: {},
    };
    if (started.ts !== undefined) record.startTs = started.ts;
    yield record;
  }
}

/** Longest NDJSON line read (a migration-ended event is a few KB); longer ones are skipped, counted. */
export const MAX_EVENT_LINE = 4 << 20;

/**
 * Lines of a byte stream, each at most `maxBytes` long: a longer line is dropped as it
 * streams by (never held whole: one 300 MB line would otherwise cost a gigabyte of heap)
 * and reported through `overlong`. A trailing CR is removed (CRLF files).
 */
export async function* boundedLines(input: AsyncIterable<Buffer>, maxBytes: number, overlong: () => void): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  const line = (): string => {
    const text = Buffer.concat(parts, size).toString('utf8');
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  };
  for await (const chunk of input) {
    for (let start = 0; ;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!skipping && size + (end - start) > maxBytes) {
        skipping = true;
        parts = [];
        size = 0;
        overlong();
      } else if (!skipping && end > start) {
        parts.push(chunk.subarray(start, end));
        size += end - start;
      }
      if (nl < 0) break;
      if (!skipping) yield line();
      parts = [];
      size = 0;
      skipping = false;
      start = nl + 1;
    }
  }
  if (!skipping && size > 0) yield line();
}

export function readMigrationEventFile(path: string, tally: LoadTally): AsyncGenerator<MigrationRecord> {
  const lines = boundedLines(createReadStream(path) as AsyncIterable<Buffer>, MAX_EVENT_LINE,
    () => tally.count(`line longer than ${MAX_EVENT_LINE >> 20} MiB (skipped unread)`));
  return readMigrationEvents(lines, path, tally);
}
