/**
 * Helpers for the end-to-end tests: generate a trace with src/generate into a temp
 * file, analyse it with the offline pipeline, and compare with the ground truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GenerateOptions, GroundTruth } from '../../src/generate/index.js';
import { generateTrace } from '../../src/generate/index.js';
import { createCaptureWriter } from '../../src/ingest/formats/writers.js';
import { fileSink } from '../../src/ingest/formats/sink.js';
import type { PhaseEvent } from '../../src/phases/events.js';
import { analyzeSources, type Summary } from '../../src/pipeline/analyze.js';

export interface Analysed {
  truth: GroundTruth;
  events: PhaseEvent[];
  summary: Summary;
  file: string;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'migscope-h6-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function generateFile(dir: string, name: string, opts: Partial<GenerateOptions>): { file: string; truth: GroundTruth } {
  const format = opts.format ?? 'pcap';
  const file = join(dir, name);
  const writer = createCaptureWriter(format, fileSink(file));
  const truth = generateTrace({ ...opts, format }, writer);
  writer.close();
  return { file, truth };
}

export async function generateAndAnalyse(dir: string, name: string, opts: Partial<GenerateOptions>): Promise<Analysed> {
  const { file, truth } = generateFile(dir, name, opts);
  const events: PhaseEvent[] = [];
  const summary = await analyzeSources([file], { onEvent: (e) => events.push(e) });
  return { truth, events, summary, file };
}
