/**
 * Output backpressure: a reader that does not read must stop the run (file) or turn into
 * counted ring drops (live), never into output queued in the heap. A Writable that holds
 * every write until released plays the slow reader; nothing here measures time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/core/anomaly.js';
import { OutputStream } from '../../src/output/stream.js';
import { NdjsonWriter } from '../../src/output/ndjson.js';
import { analyzeSources } from '../../src/pipeline/analyze.js';
import { startRingPipeline } from '../../src/pipeline/ring/run.js';
import { messageRecord } from '../../src/cli/commands/decode.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { cleanTrace, icmpEchoPcap, runCli, tempDir } from './craft-files.js';

/** A reader that takes nothing until `release()`: every write stays queued in the stream. */
class StuckReader extends Writable {
  readonly chunks: Buffer[] = [];
  private held: (() => void)[] = [];
  private released = false;
  constructor() {
    super({ highWaterMark: 16 << 10 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    if (this.released) cb();
    else this.held.push(() => cb());
  }
  release(): void {
    this.released = true;
    for (const cb of this.held.splice(0)) cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Lets the event loop run until `value()` is above 0 and has not changed for a few turns (the run is parked). */
async function settle(value: () => number): Promise<number> {
  let last = -1;
  let same = 0;
  for (let i = 0; i < 3000 && same < 10; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const v = value();
    same = v === last && v > 0 ? same + 1 : 0;
    last = v;
  }
  return last;
}

const ECHOES = 150_000;

describe('output backpressure', () => {
  const tmp = tempDir();
  let file = '';
  let expected = '';
  beforeAll(async () => {
    requireCompiledWorker();
    file = join(tmp.dir, 'echoes.pcap');
    writeFileSync(file, icmpEchoPcap(ECHOES));
    const lines: string[] = [];
    const w = new NdjsonWriter({ write: (s: string) => lines.push(s) });
    await analyzeSources([file], { onEvent: () => {}, onMessage: (m) => w.write(messageRecord(m)) });
    expected = lines.join('');
  });
  afterAll(() => tmp.cleanup());

  for (const [path, workers, filter] of [['pure-TS', undefined, undefined], ['file-worker', 2, undefined], ['libpcap ring', 2, 'ip or not ip']] as const) {
    it(`a stuck reader parks the ${path} path with a bounded queue, and nothing is lost once it reads`, async () => {
      expect(expected.length).toBeGreaterThan(16 << 20);
      const reader = new StuckReader();
      const out = new OutputStream(reader);
      const w = new NdjsonWriter(out);
      const opts: Parameters<typeof analyzeSources>[1] = {
        onEvent: () => {}, onMessage: (m) => w.write(messageRecord(m)), backpressure: () => out.ready(), signal: out.signal,
      };
      if (workers) opts.workers = workers;
      if (filter) opts.filter = filter;
      let finished = false;
      const run = analyzeSources([file], opts).then((s) => { finished = true; return s; });
      const queued = await settle(() => reader.writableLength);
      expect(finished).toBe(false);
      // What is queued while parked: one 128 KiB read batch's messages (pure-TS, ~150 KB
      // of NDJSON) or the batches in flight (≤ 8 per worker of ≤ 256 (ring) or 512 (file
      // workers) messages: ~2 MB), not the whole output (20 MB).
      expect(queued).toBeGreaterThan(0);
      expect(queued).toBeLessThan(4 << 20);
      reader.release();
      await run;
      await out.close();
      expect(reader.text()).toBe(expected);
    });
  }

  it('a live source whose output is blocked counts ring drops and grows nothing', async () => {
    const count = 20_000_000;
    let blocked = true;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const anomalies: Anomaly[] = [];
    let messages = 0;
    const h = startRingPipeline({
      source: { kind: 'synthetic', count, minLen: 64, maxLen: 64, blockWhenFull: false },
      workers: 2, decoder: 'count', ringBytes: 1 << 16, statsIntervalMs: 20,
      onMessage: (m) => { messages++; if (m.protocol === 'anomaly') anomalies.push(m); },
      backpressure: () => (blocked ? gate : undefined),
      onStats: (s) => {
        // Unblock once the capture thread had to drop: the blocked output reached the rings.
        if (blocked && s.rings.some((r) => r.dropped > 0)) { blocked = false; release(); }
      },
    });
    const res = await h.done;
    const delivered = res.workers.reduce((n, w) => n + w.packets, 0);
    const dropped = res.stats.rings.reduce((n, r) => n + r.dropped, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(delivered + dropped).toBe(res.stats.packets);
    // Every drop is in the message stream as a counted ring-drop anomaly.
    const counted = anomalies.filter((a) => a.kind === 'ring-drop').reduce((n, a) => n + a.count, 0);
    expect(counted).toBe(dropped);
    expect(messages).toBeGreaterThanOrEqual(anomalies.length);
  });
});

describe('stats CSV output', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('neutralises label cells a spreadsheet would run as formulas, keeps numbers', async () => {
    const { file } = cleanTrace(tmp.dir, 'g.pcap');
    const hostile = ['=HYPERLINK("http://x")', '+1+2', '-cmd', '@SUM(A1)', '\tx', '-5'];
    const files: string[] = [];
    for (const [i, value] of hostile.entries()) {
      const r = await runCli(['analyze', '--json', '--label', `cell=${value}`, '--label', `@name=${i}`, file]);
      expect(r.code, r.stderr).toBe(0);
      files.push(join(tmp.dir, `e${i}.ndjson`));
      writeFileSync(files[i]!, r.stdout);
    }
    const r = await runCli(['stats', '--by', 'cell,@name', '--format', 'csv', ...files]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^cell,'@name,metric,/);
    const cells = new Set(rows.slice(1).map((row) => row.startsWith('"') ? row.slice(0, row.indexOf('",') + 1) : row.slice(0, row.indexOf(','))));
    expect([...cells].sort()).toEqual(['"\'=HYPERLINK(""http://x"")"', "'\tx", "'+1+2", "'-cmd", "'@SUM(A1)", '-5'].sort());
  });
});
