/**
 * `migscope analyze --workers N FILE`: the file is split by flows over N worker threads
 * (with --filter: libpcap → native rings → N decode workers) instead of the pure-TS
 * reader in one thread; the phase events must be the same.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitAnomalyEvents } from '../live/helpers.js';
import { generateFile } from '../phases/generated.js';

const root = resolve(__dirname, '../..');
const cli = join(root, 'bin/migscope.js');
const exec = promisify(execFile);

interface CliResult { code: number; stdout: string; stderr: string }
async function migscope(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec('node', [cli, ...args], { timeout: 60_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

type Ev = Record<string, unknown> & { type: string };
const events = (ndjson: string): Ev[] => ndjson.trim().split('\n').map((l) => JSON.parse(l) as Ev);
describe('analyze --workers (files split over worker threads)', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mgs-cli-workers-'));
    file = generateFile(dir, 'kvm2.pcap', { scenario: 'kvm', runs: 2, overlap: true, payloadScale: 0.002, seed: 5 }).file;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the pure-TS path\'s phase events with 1 and 2 workers', async () => {
    const pure = await migscope(['analyze', '--json', file]);
    expect(pure.code, pure.stderr).toBe(0);
    // Each stream ends with its summary record; the native path has no TCP byte counts.
    const body = (ev: Ev[]): Ev[] => {
      expect(ev.at(-1)?.type).toBe('summary');
      return ev.slice(0, -1);
    };
    const pureEvents = events(pure.stdout);
    const reference = splitAnomalyEvents(body(pureEvents));
    expect(reference.phases.filter((e) => e.type === 'migration-ended')).toHaveLength(2);
    for (const workers of ['1', '2']) {
      const ring = await migscope(['analyze', '--json', '--workers', workers, file]);
      expect(ring.code, ring.stderr).toBe(0);
      const ringEvents = events(ring.stdout);
      expect(splitAnomalyEvents(body(ringEvents)), `${workers} workers`).toEqual(reference);
      const pick = ({ packets, migrations, ringDrops, lostFrames, anomalies }: Ev) => ({ packets, migrations, ringDrops, lostFrames, anomalies });
      expect(pick(ringEvents.at(-1)!)).toEqual(pick(pureEvents.at(-1)!));
    }
  });

  it('applies --filter in libpcap: only the libvirt connections are left', async () => {
    const r = await migscope(['decode', '--workers', '2', '--filter', 'tcp port 16509', file]);
    expect(r.code, r.stderr).toBe(0);
    const records = events(r.stdout);
    expect(records.at(-1)?.type).toBe('summary');
    const protocols = new Set(records.slice(0, -1).map((e) => e.protocol));
    expect([...protocols].sort()).toEqual(['libvirt', 'tcp']);
  });

  it('reports ring and kernel drops in the summary when libpcap reads the file (--filter)', async () => {
    const r = await migscope(['analyze', '--workers', '2', '--filter', 'ip or not ip', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/packets via the native ring, 0 ring drops, 0 kernel drops/);
  });

  it('splits a DPMI capture file too, with the pure-TS path\'s events and reader summary', async () => {
    const dpmi = generateFile(dir, 'two.cap', { scenario: 'kvm', runs: 2, payloadScale: 0.002, seed: 7, format: 'dpmi' }).file;
    const pure = await migscope(['analyze', '--json', dpmi]);
    expect(pure.code, pure.stderr).toBe(0);
    const split = await migscope(['analyze', '--json', '--workers', '2', dpmi]);
    expect(split.code, split.stderr).toBe(0);
    expect(splitAnomalyEvents(events(split.stdout))).toEqual(splitAnomalyEvents(events(pure.stdout)));
    const table = await migscope(['analyze', '--workers', '2', dpmi]);
    const pureTable = await migscope(['analyze', dpmi]);
    expect(table.stdout).toBe(pureTable.stdout);
  });

  it('stops quietly when its reader goes away (| head), on both paths', async () => {
    for (const args of [['decode', file], ['analyze', '--json', '--workers', '2', file]]) {
      const { stdout, stderr } = await exec('bash', ['-c', `set -o pipefail; node '${cli}' ${args.map((a) => `'${a}'`).join(' ')} | head -1`], { timeout: 60_000 });
      expect(stdout.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr, args.join(' ')).toBe('');
    }
  });

  it('rejects what libpcap cannot read or what the ring path cannot do, in one line', async () => {
    const dpmi = generateFile(dir, 'one.cap', { scenario: 'kvm', payloadScale: 0.002, seed: 6, format: 'dpmi' }).file;
    const cases: [string[], RegExp][] = [
      [['analyze', '--workers', '2', '--filter', 'tcp', dpmi], /dpmi files are not read by libpcap, so --filter cannot apply/],
      [['analyze', '--workers', '0', file], /--workers must be a number from 1 to 64/],
      [['analyze', '--workers', '1.5', file], /--workers must be a whole number/],
      [['analyze', '--workers', '2', file, file], /takes one SOURCE/],
      [['analyze', '--workers', '2', '--filter', 'tcp port', file], /filter|BPF|syntax/i],
      [['analyze', '--filter', 'tcp', file], /--filter applies to live sources and to files read with --workers/],
      [['analyze', '--capture', 'af-packet', file], /--capture af-packet reads live interfaces .* is a capture file/],
      [['analyze', '--capture', 'af-packet', '--workers', '2', file], /--capture af-packet reads live interfaces .* is a capture file/],
      [['decode', '--capture', 'af-packet', '--workers', '2', '--filter', 'tcp', file], /--capture af-packet reads live interfaces .* is a capture file/],
    ];
    for (const [args, want] of cases) {
      const r = await migscope(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(want);
    }
  });
});
