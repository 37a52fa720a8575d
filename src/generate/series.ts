import { join } from 'node:path';
import type { WriteFormat } from '../ingest/types.js';
import type { GroundTruth } from './types.js';
import { writeTrace } from './write-trace.js';

/** A study-style experiment design: every flavor × load cell, `runs` migrations each. */
export interface SeriesDesign {
  flavors: readonly number[];
  loads: readonly number[];
  runs: number;
  /** Seed of the first cell; the next cells count up from it, so every cell differs. */
  seed?: number;
  payloadScale?: number;
  format?: WriteFormat;
}

export interface GeneratedCell {
  flavor: number;
  load: number;
  capture: string;
  truthFile: string;
  truth: GroundTruth;
}

/**
 * Writes one OpenStack capture (and its `.truth.json`) per cell into `dir`, named
 * f<flavor>-l<load>.pcap: the file layout of the README's series command, for tests
 * and benchmarks that need a whole series without a shell loop.
 */
export function writeGeneratedSeries(dir: string, design: SeriesDesign): GeneratedCell[] {
  const cells: GeneratedCell[] = [];
  let seed = design.seed ?? 100;
  const format = design.format ?? 'pcap-ns';
  for (const flavor of design.flavors) {
    for (const load of design.loads) {
      const capture = join(dir, `f${flavor}-l${load}.pcap`);
      const truth = writeTrace(capture, {
        scenario: 'openstack', flavor, load, runs: design.runs, seed: seed++,
        ...(design.payloadScale !== undefined ? { payloadScale: design.payloadScale } : {}),
      }, format);
      const truthFile = `${capture}.truth.json`;
      cells.push({ flavor, load, capture, truthFile, truth });
    }
  }
  return cells;
}
