import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregatorEvent, ClockOffsetEvent } from '../../src/agent/aggregate.js';
import { analyzeMpFiles } from '../../src/agent/mp-files.js';
import { tempDir } from '../phases/generated.js';
import { abs, expectTruthPhases, makeTwoMpTrace, phasesEnded, SHIFT, US, type TwoMpTrace } from './shared-trace.js';

describe('analyze --mp-from-file: source-link and destination-link MPs, destination clock +350 µs', () => {
  const { dir, cleanup } = tempDir();
  let fx: TwoMpTrace;
  let a = '';
  let b = '';
  afterAll(cleanup);

  beforeAll(async () => {
    fx = await makeTwoMpTrace(dir);
    ({ a, b } = fx);
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
    expect(s.messages).toBe(fx.truthMessages);
    expectTruthPhases(fx.truth, events);
    expect(phasesEnded(events).filter((e) => e.clockError !== undefined).length).toBeGreaterThan(0);
  });

  it('with the destination MP as reference, the source MP is -350 µs and the phases move onto its clock', async () => {
    const events: AggregatorEvent[] = [];
    await analyzeMpFiles([a, b], { onEvent: (e) => events.push(e), correctClocks: true, reference: 'dst-link.pcapng' });
    const last = events.filter((e): e is ClockOffsetEvent => e.type === 'clock-offset').at(-1)!;
    expect(last.mp).toBe('src-link.pcapng');
    expect(abs(last.offset + SHIFT)).toBeLessThan(10n * US);
    expectTruthPhases(fx.truth, events, SHIFT);
  });

  it('without correction the first sighting wins: the source MP saw everything first, phases are its own', async () => {
    const events: AggregatorEvent[] = [];
    await analyzeMpFiles([a, b], { onEvent: (e) => events.push(e) });
    expect(phasesEnded(events)).toEqual(phasesEnded(fx.truth));
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
