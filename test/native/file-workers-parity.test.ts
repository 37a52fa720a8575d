import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { openCapture } from '../../src/ingest/file-source.js';
import { cleanTrace, pcapBytes, pcapRecords, recordOffsets, tempDir, withU32 } from '../hostile/craft-files.js';
import { runFileWorkers } from '../../src/pipeline/ring/file-run.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import type { WriteFormat } from '../../src/ingest/types.js';
import { requireCompiledWorker } from './compiled-worker.js';
import { normalise, offlineMessages, phaseEvents } from '../live/helpers.js';
import { writeGeneratedTrace } from '../live/trace.js';

const dir = mkdtempSync(path.join(tmpdir(), 'migscope-file-workers-'));

/**
 * A file split by flows over N workers that each read it (no libpcap, no ring): the
 * same protocol messages in the same order as one Dissector over the whole file.
 */
describe('capture file split by flows over worker threads = pure-TS path', () => {
  beforeAll(() => requireCompiledWorker());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const formats: [WriteFormat, boolean][] = [['pcap-ns', false], ['pcapng', true], ['dpmi', false], ['dpmi-frames', true]];
  for (const [format, map] of formats) {
    it(`${format}${map ? ', mapped' : ''}: identical messages and events with 1, 2 and 3 workers`, async () => {
      const trace = path.join(dir, `t.${format}`);
      const truth = writeGeneratedTrace(trace, format, 11);
      const reference = await offlineMessages(trace);
      const want = normalise(reference);
      const wantEvents = phaseEvents(reference);
      expect(wantEvents.some((e) => e.includes('"type":"migration-ended"'))).toBe(true);
      for (const workers of [1, 2, 3]) {
        const got: ProtocolMessage[] = [];
        const r = await runFileWorkers({ path: trace, workers, map, onMessage: (m) => got.push(m) });
        expect(r.reader.packets, `${workers} workers`).toBe(truth.packets);
        expect(r.perWorker.reduce((a, b) => a + b, 0)).toBe(truth.packets);
        if (workers > 1) expect(r.perWorker.filter((n) => n > 0).length).toBe(workers);
        expect(normalise(got), `${workers} workers`).toEqual(want);
        expect(phaseEvents(got), `${workers} workers`).toEqual(wantEvents);
      }
    }, 120_000);
  }

  it('a missing file fails in one error, no worker left behind', async () => {
    await expect(runFileWorkers({ path: path.join(dir, 'gone.pcap'), workers: 2, onMessage: () => undefined }))
      .rejects.toThrow(/not found|gone\.pcap/);
  });
});

/**
 * Damaged pcap files and housekeeping: the addon's record walk hands over to the JS
 * reader at the first record it does not take, and every share runs housekeeping where
 * one Dissector would (here: the flows of a first copy of the trace expire when a
 * second copy starts 300 s later, and the anomaly counts flush every second).
 */
describe('file split by flows on damaged pcap files = pure-TS path', () => {
  const tmp = tempDir();
  const cases: Record<string, string> = {};
  beforeAll(() => {
    requireCompiledWorker();
    const clean = new Uint8Array(readFileSync(cleanTrace(tmp.dir, 'g.pcap').file));
    const offsets = recordOffsets(clean, 'pcap');
    const { header, records } = pcapRecords(clean);
    const later = records.map((r) => ({ ...r, sec: r.sec + 300 }));
    const garbage = { sec: records[900]!.sec, frac: 0, caplen: 3_000_000, orig: 0, data: new Uint8Array(64).fill(0xab) };
    const files: [string, Uint8Array][] = [
      ['cut mid-record', clean.subarray(0, clean.length - 100)],
      ['a record caplen of 256 MiB + 1', withU32(clean, offsets[500]! + 8, (256 << 20) + 1)],
      ['garbage between records', pcapBytes(header, [...records.slice(0, 900), garbage, ...records.slice(900)])],
      ['an empty record and a day-long jump', pcapBytes(header, [...records.slice(0, 300), { ...records[300]!, caplen: 0, data: new Uint8Array(0) },
        ...records.slice(301, 600), ...records.slice(600).map((r) => ({ ...r, sec: r.sec + 2 * 86_400 }))])],
      ['two copies 300 s apart (flows expire at housekeeping)', pcapBytes(header, [...records, ...later])],
    ];
    for (const [name, bytes] of files) {
      cases[name] = join(tmp.dir, `${name.replace(/\W+/g, '-')}.pcap`);
      writeFileSync(cases[name]!, bytes);
    }
  });
  afterAll(() => tmp.cleanup());

  it('the same messages, events and reader counts with 2 and 3 shares, by the walk and by the JS reader', async () => {
    for (const [name, file] of Object.entries(cases)) {
      const reference = await offlineMessages(file);
      const want = normalise(reference);
      const capture = await openCapture(file);
      for await (const b of capture.packetBatches()) void b;
      const wantStats = capture.stats;
      if (name.startsWith('two copies')) expect(reference.some((m) => m.protocol === 'tcp' && m.ts > reference[0]!.ts + 300n * 10n ** 12n), name).toBe(true);
      for (const walk of ['native', 'reader'] as const) {
        for (const workers of [2, 3]) {
          const got: ProtocolMessage[] = [];
          const r = await runFileWorkers({ path: file, workers, walk, onMessage: (m) => got.push(m) });
          expect(r.reader, `${name}, ${walk}, ${workers}`).toEqual(wantStats);
          expect(r.perWorker.reduce((a, b) => a + b, 0), `${name}, ${walk}, ${workers}`).toBe(wantStats.packets);
          expect(normalise(got), `${name}, ${walk}, ${workers}`).toEqual(want);
        }
      }
    }
  }, 180_000);
});
