import { writeFileSync } from 'node:fs';
import { createCaptureWriter, fileSink, type CaptureWriterOptions } from '../ingest/formats/index.js';
import type { WriteFormat } from '../ingest/types.js';
import { generateTrace, serializeTruth } from './index.js';
import type { GenerateOptions, GroundTruth } from './types.js';

/** Generates into `path` (closed even when generation fails) and writes `path`.truth.json. */
export function writeTrace(path: string, options: Partial<GenerateOptions>, format: WriteFormat,
  writerOptions: CaptureWriterOptions = {}): GroundTruth {
  const writer = createCaptureWriter(format, fileSink(path), writerOptions);
  let truth: GroundTruth;
  try {
    truth = generateTrace({ ...options, format }, writer);
  } finally {
    writer.close();
  }
  writeFileSync(`${path}.truth.json`, serializeTruth(truth));
  return truth;
}
