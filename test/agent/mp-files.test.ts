import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregatorEvent, ClockOffsetEvent } from '../../src/agent/aggregate.js';
import { analyzeMpFiles } from '../../src/agent/mp-files.js';
import type { PhaseEvent } from '../../src/phases/events.js';
import { analyzeSources } from '../../src/pipeline/offline.js';
import { generateFile, tempDir } from '../phases/generated.js';
import { splitCapture } from './split.js';

const US = 1_000_000n;
const SHIFT = 350n * US; // the destination MP's clock is 350 µs ahead
const SPLIT = { sourceHost: '10.10.0.11', destinationHost: '10.10.0.12', shift: SHIFT, clockJitter: 2n * US, seed: 3 };
/** Per-packet timestamping noise of MP B in the split (±2 µs) on each of two markers. */
const READ_NOISE = 4n * US + 2_000n;

type Ended = Extract<PhaseEvent, { type: 'phase-ended' }>;
const ended = (evs: readonly AggregatorEvent[]): Ended[] => evs.filter((e): e is Ended => e.type === 'phase-ended');
const abs = (v: bigint): bigint => (v < 0n ? -v : v);

describe('analyze --mp-from-file: source-link and destination-link MPs, destination clock +350 µs', () => {
  const { dir, cleanup } = tempDir();
  const a = join(dir, 'src-link.pcapng');
  const b = join(dir, 'dst-link.pcapng');
  const truth: PhaseEvent[] = [];
  let truthMessages = 0;
  afterAll(cleanup);

  beforeAll(async () => {
    const { file } = generateFile(dir, 'truth.pcapng', { scenario: 'openstack', flavor: 1, load: 50, seed: 7, format: 'pcapng' });
    const counts = await splitCapture(file, a, b, SPLIT);
    expect(counts.b).toBeGreaterThan(1000);
    truthMessages = (await analyzeSources([file], { onEvent: (e) => truth.push(e) })).messages;
  });

  it('estimates the offset within 10 µs, with the shift inside its bound, and corrects the phases', async () => {
    const events: AggregatorEvent[] = [];
    const s = await analyzeMpFiles([a, b], { onEvent: (e) => events.push(e), correctClocks: true });
    const offs = events.filter((e): e is ClockOffsetEvent => e.type === 'clock-offset');
    expect(offs.length).toBeGreaterThan(1);
    const last = offs.at(-1)!;
    expect(last.mp).toBe('dst-link.pcapng');
    expect(last.reference).toBe('src-link.pcapng');
    expect(abs(last.offset - SHIFT)).toBeLessThan(10n * US);
    expect(abs(last.offset - SHIFT)).toBeLessThanOrEqual(last.bound);
    // No link delay between the taps in the split: what is left is B's reading noise.
    expect(last.delay).toBeLessThanOrEqual(2n * US);
    // Shared traffic (libvirt, QEMU stream) was seen twice and delivered once.
    expect(s.merge.duplicateMessages).toBeGreaterThan(0);
    expect(s.merge.lostRecords).toBe(0);
    expect(s.messages).toBe(truthMessages);
    const t = ended(truth);
    const g = ended(events);
    expect(g.map((e) => `${e.migration}/${e.phase}`)).toEqual(t.map((e) => `${e.migration}/${e.phase}`));
    let crossMp = 0;
    for (let i = 0; i < t.length; i++) {
      const tol = (g[i]!.clockError ?? 0n) + READ_NOISE;
      if (g[i]!.clockError !== undefined) crossMp++;
      expect(abs(g[i]!.duration - t[i]!.duration), g[i]!.phase).toBeLessThanOrEqual(tol);
      expect(abs(g[i]!.ts - t[i]!.ts), g[i]!.phase).toBeLessThanOrEqual(10n * US + READ_NOISE);
    }
    expect(crossMp).toBeGreaterThan(0);
    const te = truth.find((e) => e.type === 'migration-ended');
    const ge = events.find((e) => e.type === 'migration-ended');
    expect(ge && ge.type === 'migration-ended' && ge.outcome).toBe(te && te.type === 'migration-ended' && te.outcome);
  });

  it('with the destination MP as reference, the source MP is -350 µs and the phases move onto its clock', async () => {
    const events: AggregatorEvent[] = [];
    await analyzeMpFiles([a, b], { onEvent: (e) => events.push(e), correctClocks: true, reference: 'dst-link.pcapng' });
    const last = events.filter((e): e is ClockOffsetEvent => e.type === 'clock-offset').at(-1)!;
    expect(last.mp).toBe('src-link.pcapng');
    expect(abs(last.offset + SHIFT)).toBeLessThan(10n * US);
    const t = ended(truth);
    const g = ended(events);
    expect(g.length).toBe(t.length);
    for (let i = 0; i < t.length; i++) {
      expect(abs(g[i]!.duration - t[i]!.duration), g[i]!.phase).toBeLessThanOrEqual((g[i]!.clockError ?? 0n) + READ_NOISE);
      expect(abs(g[i]!.ts - SHIFT - t[i]!.ts), g[i]!.phase).toBeLessThanOrEqual(10n * US + READ_NOISE);
    }
  });

  it('without correction the first sighting wins: the source MP saw everything first, phases are its own', async () => {
    const events: AggregatorEvent[] = [];
    await analyzeMpFiles([a, b], { onEvent: (e) => events.push(e) });
    expect(ended(events)).toEqual(ended(truth));
  });

  it('the CLI prints the same offset (NDJSON) and a table with it', () => {
    const bin = join(__dirname, '../../bin/migscope.js');
    const out = execFileSync(process.execPath, [bin, 'analyze', '--mp-from-file', '--correct-clocks', '--json', a, b], { encoding: 'utf8' });
    const offs = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; offset?: string }).filter((e) => e.type === 'clock-offset');
    expect(abs(BigInt(offs.at(-1)!.offset!) - SHIFT)).toBeLessThan(10n * US);
    const table = execFileSync(process.execPath, [bin, 'analyze', '--mp-from-file', '--correct-clocks', a, b], { encoding: 'utf8' });
    expect(table).toMatch(/clock offset dst-link\.pcapng: 3[45]\d\.\d{3} µs ± /);
    expect(table).toMatch(/clock offset\)/);
  });

  it('one file is a usage error', () => {
    const bin = join(__dirname, '../../bin/migscope.js');
    let code = 0;
    try { execFileSync(process.execPath, [bin, 'analyze', '--mp-from-file', a], { stdio: 'pipe' }); } catch (e) { code = (e as { status: number }).status; }
    expect(code).toBe(2);
  });
});
