/**
 * The two-MP fixture of the agent tests: a generated OpenStack migration (the truth),
 * split into the source link's and the destination link's captures, the destination's
 * clock +350 µs with ±2 µs reading noise, and `analyze` of the truth to compare with.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AggregatorEvent } from '../../src/agent/aggregate.js';
import type { PhaseEvent } from '../../src/phases/events.js';
import { analyzeSources } from '../../src/pipeline/analyze.js';
import { generateFile } from '../phases/generated.js';
import type { GenerateOptions } from '../../src/generate/types.js';
import { splitCapture, type SplitOptions } from './split.js';

export const US = 1_000_000n;
export const SHIFT = 350n * US;
/** Per-packet reading noise of MP B (±2 µs) on each of two markers, plus the ns grid. */
export const READ_NOISE = 4n * US + 2_000n;

export interface TwoMpTrace {
  truthFile: string;
  a: string;
  b: string;
  truth: PhaseEvent[];
  truthMessages: number;
}

export interface TwoMpOptions {
  /** Generator options (a smaller trace, a start time). */
  generate?: Partial<GenerateOptions>;
  /** The two captures as DPMI measurement frames (`dpmi-frames`), each MP with its MAMPID. */
  split?: Pick<SplitOptions, 'format' | 'writerOptions'>;
}

export async function makeTwoMpTrace(dir: string, opts: TwoMpOptions = {}): Promise<TwoMpTrace> {
  const { file } = generateFile(dir, 'truth.pcapng', { scenario: 'openstack', flavor: 1, load: 50, seed: 7, ...opts.generate, format: 'pcapng' });
  const ext = opts.split?.format === 'dpmi-frames' ? 'pcap' : 'pcapng';
  const a = join(dir, `src-link.${ext}`);
  const b = join(dir, `dst-link.${ext}`);
  await splitCapture(file, a, b, { sourceHost: '10.10.0.11', destinationHost: '10.10.0.12', shift: SHIFT, clockJitter: 2n * US, seed: 3, ...opts.split });
  const truth: PhaseEvent[] = [];
  const s = await analyzeSources([file], { onEvent: (e) => truth.push(e) });
  return { truthFile: file, a, b, truth, truthMessages: s.messages };
}

type Ended = Extract<PhaseEvent, { type: 'phase-ended' }>;
export const phasesEnded = (evs: readonly AggregatorEvent[]): Ended[] => evs.filter((e): e is Ended => e.type === 'phase-ended');
export const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/**
 * The aggregator's phases against `analyze` of the truth: same phases in the same order,
 * each duration within its clockError plus B's reading noise, each marker within 10 µs
 * (the offset requirement) plus that noise, and the same outcome.
 */
export function expectTruthPhases(truth: readonly PhaseEvent[], events: readonly AggregatorEvent[], shift = 0n): void {
  const t = phasesEnded(truth);
  const g = phasesEnded(events);
  expect(g.map((e) => `${e.migration}/${e.phase}`)).toEqual(t.map((e) => `${e.migration}/${e.phase}`));
  for (let i = 0; i < t.length; i++) {
    expect(abs(g[i]!.duration - t[i]!.duration), g[i]!.phase).toBeLessThanOrEqual((g[i]!.clockError ?? 0n) + READ_NOISE);
    expect(abs(g[i]!.ts - shift - t[i]!.ts), g[i]!.phase).toBeLessThanOrEqual(10n * US + READ_NOISE);
  }
  const outcome = (evs: readonly AggregatorEvent[]) => evs.filter((e) => e.type === 'migration-ended').map((e) => (e as { outcome: string }).outcome);
  expect(outcome(events)).toEqual(outcome(truth));
}

/** Picosecond fields of NDJSON events (decimal strings) back to bigints. */
const BIG = new Set(['ts', 'duration', 'total', 'libvirtTotal', 'clockError', 'offset', 'spread', 'delay', 'bound', 'start', 'end', 'passStart', 'passDuration', 'eta']);

/** NDJSON lines (analyze --json, /api/events) → events with bigint times. */
export function parseNdjson<T = AggregatorEvent>(text: string): T[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l, (k, v: unknown) =>
    (BIG.has(k) && typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : v)) as T);
}
