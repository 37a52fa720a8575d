import { UsageError } from '../core/errors.js';
import type { CaptureWriter } from '../ingest/types.js';
import { composeAndWrite } from './scenario/compose.js';
import type { GenerateOptions, GroundTruth } from './types.js';
import { LOSABLE_MARKERS } from './types.js';

export * from './types.js';
export { APPENDIX_A, TABLE_5_1, appendixATable } from './study-reference.js';
export { FLAVORS } from './scenario/compose.js';

export const GENERATOR_VERSION = 'migscope 0.1.0';

export const DEFAULT_OPTIONS: GenerateOptions = {
  scenario: 'kvm', flavor: 1, load: 0, linkGbps: 1, runs: 1, overlap: false, seed: 1, format: 'pcap',
  payloadScale: 0.05, outcome: 'completed',
};

/** Rejects impossible options with a one-line UsageError. */
export function validateOptions(o: GenerateOptions): void {
  if (o.scenario !== 'kvm' && o.scenario !== 'openstack') throw new UsageError(`--scenario must be kvm or openstack (got '${String(o.scenario)}')`);
  if (!Number.isInteger(o.flavor) || o.flavor < 1 || o.flavor > 4) throw new UsageError(`--flavor must be 1, 2, 3 or 4 (got '${o.flavor}')`);
  if (!(o.load >= 0 && o.load <= 100)) throw new UsageError(`--load must be from 0 to 100 (got '${o.load}')`);
  if (!(o.linkGbps > 0 && o.linkGbps <= 400)) throw new UsageError(`--link-gbps must be above 0 and at most 400 (got '${o.linkGbps}')`);
  if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 10000) throw new UsageError(`--runs must be an integer from 1 to 10000 (got '${o.runs}')`);
  if (!(o.payloadScale > 0 && o.payloadScale <= 1)) throw new UsageError(`--payload-scale must be above 0 and at most 1 (got '${o.payloadScale}')`);
  if (!['completed', 'failed-prepare', 'failed-transfer', 'cancelled'].includes(o.outcome)) {
    throw new UsageError(`--outcome must be completed, failed-prepare, failed-transfer or cancelled (got '${String(o.outcome)}')`);
  }
  if (o.dirtyRatio !== undefined && !(o.dirtyRatio > 0 && o.dirtyRatio <= 2)) throw new UsageError(`--dirty-ratio must be above 0 and at most 2 (got '${o.dirtyRatio}')`);
  if (o.lose !== undefined && !(LOSABLE_MARKERS as readonly string[]).includes(o.lose)) {
    throw new UsageError(`--lose must be one of ${LOSABLE_MARKERS.join(', ')} (got '${String(o.lose)}')`);
  }
  if (o.scenario === 'kvm' && o.lose && ['auth-request', 'auth-response', 'servers-get', 'pre-live-reply', 'post-call', 'post-reply'].includes(o.lose)) {
    throw new UsageError(`--lose ${o.lose} needs --scenario openstack`);
  }
}

/**
 * Writes a generated trace (one or more migrations) to `writer` and returns its ground
 * truth: every timestamp in it is that of a packet as written (on the writer's grid).
 * The writer is not closed.
 */
export function generateTrace(options: Partial<GenerateOptions>, writer: CaptureWriter): GroundTruth {
  const opts: GenerateOptions = { ...DEFAULT_OPTIONS, ...options, format: writer.format };
  validateOptions(opts);
  const r = composeAndWrite(opts, writer);
  return {
    generator: GENERATOR_VERSION, seed: opts.seed, format: writer.format, resolution: writer.resolution,
    packets: r.packets, bytes: r.bytes, migrations: r.migrations,
  };
}

/** The truth as JSON: bigint picoseconds become decimal strings (docs/phase-markers.md). */
export function serializeTruth(t: GroundTruth): string {
  return `${JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}

/** Reads a truth file back: every decimal-string field (the picosecond values) becomes a bigint. */
export function parseTruth(text: string): GroundTruth {
  return JSON.parse(text, (_k: string, v: unknown) => (typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : v)) as GroundTruth;
}
