import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as reportCommand } from '../../src/cli/commands/report.js';
import { command as statsCommand, loadSeries, parseJobsOption } from '../../src/cli/commands/stats.js';
import { UsageError } from '../../src/core/errors.js';
import { writeGeneratedSeries } from '../../src/generate/series.js';
import { analyzeCaptureFiles, defaultJobs, MIN_BYTES_PER_THREAD } from '../../src/pipeline/pool/index.js';
import { seriesJson } from '../../src/stats/format-json.js';
import { loadMigrations } from '../../src/stats/load-sources.js';
import { LoadTally, type MigrationRecord } from '../../src/stats/record.js';

/**
 * Captures of a generated 20-cell series analysed by the piscina pool must give exactly
 * what the in-process path gives: same records (bigint picoseconds included), same
 * order, same statistics, and a bad file among them reported without stopping the run.
 */
const FLAVORS = [1, 2, 3, 4];
const LOADS = [0, 25, 50, 75, 100];

const dir = mkdtempSync(join(tmpdir(), 'migscope-pool-'));
let captures: string[] = [];
let labels = '';
let junk = '';
let truncated = '';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  const cells = writeGeneratedSeries(dir, { flavors: FLAVORS, loads: LOADS, runs: 1, seed: 300, payloadScale: 0.0002 });
  captures = cells.map((c) => c.capture);
  labels = join(dir, 'labels.csv');
  writeFileSync(labels, `file,flavor,load\n${cells.map((c) => `${basename(c.capture)},${c.flavor},${c.load}`).join('\n')}\n`);
  junk = join(dir, 'junk.pcap');
  writeFileSync(junk, Buffer.from('this is not a capture file, just text that ends up here'));
  // A capture cut mid-record: its header is fine, the tail is gone.
  truncated = join(dir, 'cut.pcap');
  const whole = readFileSync(captures[0]!);
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 3) + 7));
}, 120_000);

async function records(files: string[], jobs: number): Promise<{ records: MigrationRecord[]; tally: LoadTally; progress: number[][] }> {
  const tally = new LoadTally();
  const progress: number[][] = [];
  const out: MigrationRecord[] = [];
  const options = { tally, jobs, onFile: (done: number, total: number, _path: string, migrations: number) => { progress.push([done, total, migrations]); } };
  for await (const r of loadMigrations(files, options)) out.push(r);
  return { records: out, tally, progress };
}

describe('capture pool (piscina) vs in-process analysis', () => {
  it('gives the very same records, in input order, on a generated series', async () => {
    const sequential = await records(captures, 1);
    const parallel = await records(captures, 3);
    expect(sequential.records).toHaveLength(20);
    expect(parallel.records).toEqual(sequential.records);
    expect(parallel.records.map((r) => r.origin)).toEqual(captures);
    expect(typeof parallel.records[0]!.total).toBe('bigint');
    expect([...parallel.tally.skipped]).toEqual([...sequential.tally.skipped]);
    // One progress call per file, counts running up to the total, whatever the finish order.
    expect(parallel.progress.map(([done]) => done)).toEqual(captures.map((_, i) => i + 1));
    expect(parallel.progress.reduce((a, [, , m]) => a + m!, 0)).toBe(20);
  });

  it('gives identical statistics and JSON output with --jobs 1 and the pool', async () => {
    const input = { files: captures, by: ['flavor', 'load'], labels, includeFailed: false };
    const sequential = await loadSeries({ ...input, jobs: 1 });
    const parallel = await loadSeries({ ...input, jobs: 2 });
    expect(parallel).toEqual(sequential);
    expect(seriesJson(parallel)).toBe(seriesJson(sequential));
    expect(parallel.groups).toHaveLength(20);
  });

  it('keeps bigint timestamps across the worker boundary and results in input order', async () => {
    const finished: string[] = [];
    const results = await analyzeCaptureFiles(captures.slice(0, 6), { jobs: 2, onResult: (r) => finished.push(r.path) });
    expect(results.map((r) => r.path)).toEqual(captures.slice(0, 6));
    expect([...finished].sort()).toEqual(captures.slice(0, 6).sort());
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.events.map((e) => e.type)).toEqual(['migration-started', 'migration-ended']);
      expect(typeof r.events[0]!.ts).toBe('bigint');
      expect(r.summary?.stats?.packets).toBeGreaterThan(0);
    }
  });

  it('reports a corrupt and a truncated file by name and analyses the others', async () => {
    const files = [captures[0]!, junk, captures[1]!, truncated, captures[2]!];
    const sequential = await records(files, 1);
    const parallel = await records(files, 2);
    expect(parallel.records).toEqual(sequential.records);
    expect([...parallel.tally.skipped]).toEqual([...sequential.tally.skipped]);
    const completed = parallel.records.filter((r) => r.outcome === 'completed');
    expect(completed.map((r) => r.origin)).toEqual([captures[0], captures[1], captures[2]]);
    const reasons = [...parallel.tally.skipped.keys()];
    expect(reasons.some((r) => r.startsWith('capture not analysed:') && r.includes(junk))).toBe(true);
    expect(reasons.some((r) => r.startsWith('capture read in part:') && r.includes(truncated))).toBe(true);
    expect(parallel.progress).toHaveLength(files.length);
  });
});

describe('--jobs', () => {
  it('accepts whole numbers from 1 to 256, default undefined (one per core)', () => {
    expect(parseJobsOption(undefined)).toBeUndefined();
    expect(parseJobsOption('1')).toBe(1);
    expect(parseJobsOption('8')).toBe(8);
    for (const bad of ['0', '-2', '1.5', 'four', '', '257']) expect(() => parseJobsOption(bad), bad).toThrow(UsageError);
  });

  it('defaults to one thread per core, but in-process for a series too small to repay worker start-up', () => {
    expect(defaultJobs(0)).toBe(1);
    expect(defaultJobs(MIN_BYTES_PER_THREAD - 1)).toBe(1);
    expect(defaultJobs(2 * MIN_BYTES_PER_THREAD)).toBe(Math.min(2, availableParallelism()));
    expect(defaultJobs(1e15)).toBe(availableParallelism());
  });

  it('is checked by stats and report before any file is read', async () => {
    await expect(statsCommand.run([join(dir, 'missing.pcap'), '--jobs', '0'])).rejects.toThrow(/--jobs must be an integer from 1 to 256/);
    await expect(reportCommand.run([join(dir, 'missing.pcap'), '-o', join(dir, 'r'), '--jobs', 'x'])).rejects.toThrow(UsageError);
  });
});
