/**
 * Helpers for the end-to-end tests: generate a trace with src/generate into a temp
 * file, analyse it with the offline pipeline, and compare with the ground truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { PS_PER_US, type Picos } from '../../src/core/time.js';
import type { GenerateOptions, GroundTruth, MigrationTruth } from '../../src/generate/index.js';
import { generateTrace } from '../../src/generate/index.js';
import { createCaptureWriter } from '../../src/ingest/formats/writers.js';
import { fileSink } from '../../src/ingest/formats/sink.js';
import type { MigrationEnded, PhaseEvent } from '../../src/phases/events.js';
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

const OUTCOME: Record<MigrationTruth['outcome'], MigrationEnded['outcome']> = {
  completed: 'completed', 'failed-prepare': 'failed', 'failed-transfer': 'failed', cancelled: 'cancelled',
};

export function near(actual: Picos | undefined, expected: Picos | undefined, what: string): void {
  expect(actual, what).toBeDefined();
  const d = actual! - expected!;
  expect(d <= PS_PER_US && d >= -PS_PER_US, `${what}: ${actual} vs truth ${expected} (Δ ${d} ps)`).toBe(true);
}

export function endedOf(events: PhaseEvent[]): MigrationEnded[] {
  return events.filter((e): e is MigrationEnded => e.type === 'migration-ended');
}

/** Pairs each truth migration with the analysed one (by domain, else by order). */
function pair(r: Analysed): [MigrationTruth, MigrationEnded][] {
  const ended = endedOf(r.events);
  expect(ended.length, 'migrations found').toBe(r.truth.migrations.length);
  return r.truth.migrations.map((t, i) => {
    const rec = r.summary.migrations.find((m) => m.domain === t.domain && !m.id.startsWith('?')) ?? r.summary.migrations[i]!;
    return [t, rec.ended];
  });
}

export function compareWithTruth(r: Analysed, opts: { exactPhases?: boolean; stream?: boolean } = {}): void {
  for (const [t, e] of pair(r)) {
    const tag = `${t.id} ${t.scenario} f${t.factors.flavor} l${t.factors.load}`;
    expect(e.outcome, `${tag} outcome (${e.reason ?? ''})`).toBe(OUTCOME[t.outcome]);
    if (opts.exactPhases !== false) {
      expect(Object.keys(e.phases).sort(), `${tag} phases`).toEqual(Object.keys(t.phases).sort());
      for (const [name, span] of Object.entries(t.phases)) {
        const got = e.phases[name as keyof typeof e.phases];
        expect(got?.uncertain, `${tag} ${name} uncertain`).toBeUndefined();
        near(got?.start, span!.start, `${tag} ${name} start`);
        near(got?.end, span!.end, `${tag} ${name} end`);
      }
    }
    if (t.total !== undefined) near(e.total, t.total, `${tag} total`);
    if (t.libvirtTotal !== undefined) near(e.libvirtTotal, t.libvirtTotal, `${tag} libvirtTotal`);
    // Downtime is measured around the switch-over, which only the stream's payload shows.
    if (opts.stream === false) expect(e.downtime, `${tag} downtime (switch-over unknown)`).toBeUndefined();
    else if (t.downtime !== undefined) {
      expect(e.downtime, `${tag} downtime`).toBe(t.downtime);
      const rec = r.summary.migrations.find((m) => m.ended === e)!;
      expect(rec.lostPings, `${tag} lost pings`).toBe(t.lostPings);
    }
    if (t.outcome === 'completed' && opts.stream !== false) {
      const { pause, ...stream } = e.stream!;
      expect(stream, `${tag} stream`).toEqual({
        bytes: t.streamBytes, iterations: t.iterations, precopyBytes: t.precopyBytes, stopCopyBytes: t.stopCopyBytes,
        ramStopCopyBytes: t.passBytes.at(-1),
      });
      // The stream's pause: switch-over (END(ram)) → EOF, the generator's marker packets.
      const [s, f] = [t.markers['stopcopy']!, t.markers['stream-eof']!];
      expect(pause, `${tag} pause`).toEqual({ start: s, end: f, min: f - s, max: pause!.max });
      expect(pause!.max >= pause!.min, `${tag} pause bound`).toBe(true);
    }
  }
}

