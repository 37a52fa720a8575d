import { beforeAll, describe, expect, it } from 'vitest';
import { runRingPipeline, startRingPipeline } from '../../src/pipeline/ring/run.js';
import { CaptureError } from '../../src/core/errors.js';
import { requireCompiledWorker } from './compiled-worker.js';

const payloadByte = (seq: number, i: number): number => (seq * 131 + i * 7 + (i >> 8)) & 0xff;
const lengthOf = (seq: number, min: number, max: number): number =>
  min + Number((BigInt(seq) * 2654435761n) % BigInt(max - min + 1));

beforeAll(() => requireCompiledWorker(), 120_000);

describe('decode workers over native rings', () => {
  it('moves many records to two worker threads with matching checksums', async () => {
    const count = 100_000, min = 20, max = 600;
    let byteSum = 0, weightedSum = 0, bytes = 0;
    for (let s = 0; s < count; s++) {
      const n = lengthOf(s, min, max);
      let t = 0;
      for (let i = 0; i < n; i++) t += payloadByte(s, i);
      byteSum = (byteSum + t) % 2 ** 32;
      weightedSum = (weightedSum + (s + 1) * n) % 2 ** 32;
      bytes += n;
    }
    const res = await runRingPipeline({
      source: { kind: 'synthetic', count, minLen: min, maxLen: max, blockWhenFull: true },
      workers: 2, decoder: 'count', ringBytes: 1 << 16, onMessage: () => undefined,
    });
    const w = res.workers;
    expect(w[0]!.packets + w[1]!.packets).toBe(count);
    expect(w[0]!.packets).toBe(count / 2); // synthetic records alternate rings
    expect(w[0]!.bytes + w[1]!.bytes).toBe(bytes);
    expect((w[0]!.byteSum + w[1]!.byteSum) % 2 ** 32).toBe(byteSum);
    expect((w[0]!.weightedSum + w[1]!.weightedSum) % 2 ** 32).toBe(weightedSum);
    expect(w[0]!.wraps).toBeGreaterThan(10);
    expect(res.stats.rings.map((r) => r.dropped)).toEqual([0, 0]);
  });

  it('fails the run clearly when a worker crashes, without hanging', async () => {
    const run = runRingPipeline({
      source: { kind: 'synthetic', count: 50_000_000, minLen: 64, maxLen: 64, blockWhenFull: true },
      workers: 2, decoder: 'count', ringBytes: 1 << 16, onMessage: () => undefined,
      crashWorker: { worker: 1, packets: 1000 },
    });
    await expect(run).rejects.toThrow(CaptureError);
    await expect(run).rejects.toThrow(/decode worker 1 crashed: fault injection/);
  });

  it('shuts down mid-capture: workers drain, final stats account for every packet', async () => {
    let stats = 0;
    const h = startRingPipeline({
      source: { kind: 'synthetic', count: 50_000_000, minLen: 64, maxLen: 128, blockWhenFull: false },
      workers: 2, decoder: 'count', ringBytes: 1 << 16, onMessage: () => undefined,
      onStats: () => { stats++; }, statsIntervalMs: 50,
    });
    setTimeout(() => h.stop(), 300);
    const res = await h.done;
    const delivered = res.workers[0]!.packets + res.workers[1]!.packets;
    const dropped = res.stats.rings[0]!.dropped + res.stats.rings[1]!.dropped;
    expect(res.stats.packets).toBeLessThan(50_000_000);
    expect(delivered + dropped).toBe(res.stats.packets);
    expect(stats).toBeGreaterThan(0);
  });
});
