import { readFile } from 'node:fs/promises';
import {
  inferScenario, isRecord, labelsField, outcomeField, phasesField, picosField, scenarioField, stringField,
} from './json-fields.js';
import type { LoadTally, MigrationRecord } from './record.js';

/**
 * Generator truth files (`FILE.truth.json`, docs/phase-markers.md): each migration's
 * factors become its labels (flavor, load, linkGbps), so a series of truth files can be
 * summarised exactly like the analysed captures and the two compared.
 */
export function migrationsFromTruth(doc: unknown, origin: string, tally: LoadTally): MigrationRecord[] {
  if (!isRecord(doc) || !Array.isArray(doc['migrations'])) {
    tally.count('truth file without a migrations array');
    return [];
  }
  const records: MigrationRecord[] = [];
  for (const entry of doc['migrations'] as unknown[]) {
    if (!isRecord(entry)) {
      tally.count('truth migration is not an object');
      continue;
    }
    const id = stringField(entry['id']) ?? `#${records.length + 1}`;
    const phases = phasesField(entry['phases'], (reason) => tally.count(reason));
    const record: MigrationRecord = {
      origin,
      id,
      scenario: scenarioField(entry['scenario']) ?? inferScenario(phases),
      labels: labelsField(entry['factors']),
      outcome: 'completed',
      phases,
    };
    // The generator's outcomes are finer ('failed-prepare', 'failed-transfer'): keep the
    // detail as the reason so exclusions say which failure it was.
    const rawOutcome = entry['outcome'];
    const outcome = outcomeField(rawOutcome);
    if (outcome !== undefined) record.outcome = outcome;
    else if (typeof rawOutcome === 'string') {
      record.outcome = rawOutcome.startsWith('failed') ? 'failed' : 'incomplete';
      record.reason = rawOutcome;
    }
    const total = picosField(entry['total']);
    if (total !== undefined) record.total = total;
    const libvirtTotal = picosField(entry['libvirtTotal']);
    if (libvirtTotal !== undefined) record.libvirtTotal = libvirtTotal;
    const downtime = picosField(entry['downtime']);
    if (downtime !== undefined) record.downtime = downtime;
    const first = Object.values(phases).reduce<bigint | undefined>(
      (min, span) => (min === undefined || span.start < min ? span.start : min), undefined);
    if (first !== undefined) record.startTs = first;
    records.push(record);
  }
  return records;
}

export async function readTruthFile(path: string, tally: LoadTally): Promise<MigrationRecord[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    tally.count('unparsable truth file');
    return [];
  }
  return migrationsFromTruth(doc, path, tally);
}
