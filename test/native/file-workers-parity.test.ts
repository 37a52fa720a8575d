import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
