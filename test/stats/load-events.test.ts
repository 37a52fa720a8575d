import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PS_PER_S } from '../../src/core/time.js';
import { labelTableFromCsv, parseCsv } from '../../src/stats/labels-csv.js';
import { readMigrationEvents } from '../../src/stats/load-events.js';
import { loadMigrations, sniffInputKind } from '../../src/stats/load-sources.js';
import { migrationsFromTruth } from '../../src/stats/load-truth.js';
import { LoadTally, type MigrationRecord } from '../../src/stats/record.js';
import { MsgpackWriter } from '../../src/output/msgpack.js';
import { migrationEventLines, synthesizeMigration } from './series-fixture.js';
import { seededRandom } from '../helpers/rng.js';

async function collect(gen: AsyncIterable<MigrationRecord>): Promise<MigrationRecord[]> {
  const out: MigrationRecord[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

async function* linesOf(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

const dir = mkdtempSync(join(tmpdir(), 'migscope-stats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('phase-event NDJSON reader', () => {
  const rand = seededRandom(7);
  const m1 = synthesizeMigration('m1', { flavor: '2', load: '50' }, 2, 50, rand, 1_700_000_000n * PS_PER_S);
  const m2 = synthesizeMigration('m2', { flavor: '2', load: '50' }, 2, 50, rand, 1_700_000_100n * PS_PER_S);

  it('joins migration-started labels with migration-ended phases, keeping picoseconds exact', async () => {
    const tally = new LoadTally();
    const records = await collect(readMigrationEvents(linesOf(migrationEventLines(m1)), 'a.ndjson', tally));
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r).toMatchObject({ origin: 'a.ndjson', id: 'm1', scenario: 'openstack', outcome: 'completed', labels: { flavor: '2', load: '50' } });
    expect(r.phases.transfer).toEqual(m1.phases.transfer);
    expect(r.total).toBe(m1.total);
    expect(r.libvirtTotal).toBe(m1.libvirtTotal);
    expect(r.downtime).toBe(m1.downtime);
    expect(r.startTs).toBe(m1.phases.authentication.start);
    expect(tally.skipped.size).toBe(0);
  });

  it('counts bad lines, reports unfinished migrations as incomplete, never throws', async () => {
    const failedEnd = JSON.stringify({ type: 'migration-ended', migration: 'm9', ts: '5', outcome: 'failed', reason: 'prepare3 error', phases: {} });
    const lines = [
      'not json at all',
      '{"type":"migration-ended", broken',
      ...migrationEventLines(m2),
      JSON.stringify({ type: 'migration-started', migration: 'm3', ts: '1', scenario: 'kvm' }),
      JSON.stringify({ type: 'migration-ended', migration: 'm4', ts: '1', outcome: 'bogus', phases: {} }),
      failedEnd,
      JSON.stringify({ type: 'migration-ended', migration: 'm5', ts: '9', outcome: 'completed', phases: { transfer: { start: '9', end: '3' }, finish: { start: '1', end: '4' } } }),
    ];
    const tally = new LoadTally();
    const records = await collect(readMigrationEvents(linesOf(lines), 'b.ndjson', tally));
    expect(records.map((r) => [r.id, r.outcome])).toEqual([
      ['m2', 'completed'], ['m9', 'failed'], ['m5', 'completed'], ['m3', 'incomplete'],
    ]);
    expect(records[1]!.reason).toBe('prepare3 error');
    expect(records[2]!.phases.transfer).toBeUndefined(); // reversed span dropped
    expect(records[2]!.phases.finish).toEqual({ start: 1n, end: 4n });
    expect(records[3]!.reason).toBe('no migration-ended event');
    expect(Object.fromEntries(tally.skipped)).toEqual({
      'non-JSON line': 1,
      'unparsable JSON line': 1,
      'migration-ended without a known outcome': 1,
      'migration-ended without migration-started (labels unknown)': 2,
      "phase 'transfer' ends before it starts": 1,
    });
  });

  it('reads files of each kind and applies CSV labels', async () => {
    const events = join(dir, 'run-07.ndjson');
    writeFileSync(events, `${migrationEventLines(m1).join('\n')}\n`);
    const truth = join(dir, 'gen.truth.json');
    writeFileSync(truth, JSON.stringify({
      generator: 'test', seed: 1, format: 'pcap', resolution: '1000000',
      migrations: [{ id: 'm1', scenario: 'kvm', outcome: 'completed', factors: { flavor: 3, load: 25, linkGbps: 1 },
        phases: { 'remote-connect': { start: '100', end: '200' }, transfer: { start: '300', end: '900' } },
        libvirtTotal: '1000', downtime: '20000000000' }],
    }));
    expect(await sniffInputKind(events)).toBe('events');
    expect(await sniffInputKind(truth)).toBe('truth');
    const labels = labelTableFromCsv('file,migration,load,note\nrun-07.ndjson,m1,75,"a, ""quoted"" note"\n');
    const tally = new LoadTally();
    const seen: number[] = [];
    const records = await collect(loadMigrations([events, truth], { tally, labels, onFile: (done) => seen.push(done) }));
    expect(seen).toEqual([1, 2]);
    expect(records[0]!.labels).toEqual({ flavor: '2', load: '75', note: 'a, "quoted" note' });
    expect(records[1]).toMatchObject({ scenario: 'kvm', labels: { flavor: '3', load: '25', linkGbps: '1' }, libvirtTotal: 1000n, startTs: 100n });
  });

  it('reads analyze --msgpack output (bigint picoseconds) like the NDJSON', async () => {
    const PICOS_KEYS = new Set(['ts', 'duration', 'start', 'end', 'total', 'libvirtTotal', 'downtime']);
    const chunks: Uint8Array[] = [];
    const writer = new MsgpackWriter({ write: (c: Uint8Array) => chunks.push(c) });
    // The in-memory event form: decimal strings back to bigint, as the phase engine emits them.
    for (const line of migrationEventLines(m1)) {
      writer.write(JSON.parse(line, (k, v: unknown) => (typeof v === 'string' && PICOS_KEYS.has(k) ? BigInt(v) : v)));
    }
    const path = join(dir, 'run.msgpack');
    writeFileSync(path, Buffer.concat(chunks));
    expect(await sniffInputKind(path)).toBe('events-msgpack');
    const tally = new LoadTally();
    const [r] = await collect(loadMigrations([path], { tally }));
    expect(r).toMatchObject({ id: 'm1', scenario: 'openstack', labels: { flavor: '2', load: '50' }, total: m1.total });
    expect(r!.phases.cleanup).toEqual(m1.phases.cleanup);
  });

  it("maps the generator's failure outcomes to failed, keeping the detail as the reason", () => {
    const tally = new LoadTally();
    const records = migrationsFromTruth({ migrations: [
      { id: 'm1', scenario: 'kvm', outcome: 'failed-prepare', phases: {} },
      { id: 'm2', scenario: 'kvm', outcome: 'cancelled', phases: {} },
      { id: 'm3', scenario: 'kvm', outcome: 'weird', phases: {} },
    ] }, 'x.truth.json', tally);
    expect(records.map((r) => [r.outcome, r.reason])).toEqual([['failed', 'failed-prepare'], ['cancelled', undefined], ['incomplete', 'weird']]);
  });

  it('truth entries without a migrations array are counted', () => {
    const tally = new LoadTally();
    expect(migrationsFromTruth({ nope: 1 }, 'x', tally)).toEqual([]);
    expect(tally.skipped.get('truth file without a migrations array')).toBe(1);
  });

  it('parses RFC 4180 CSV', () => {
    expect(parseCsv('a,b\r\n"x,1","y""z"\n\n3,\n')).toEqual([['a', 'b'], ['x,1', 'y"z'], ['3', '']]);
  });
});
