import { describe, expect, it } from 'vitest';
import { MessagePacker } from '../../src/pipeline/ring/batch-codec.js';
import { WatermarkMerger } from '../../src/pipeline/ring/merge.js';
import { FLUSH_KEY, type BatchFromWorker } from '../../src/pipeline/ring/protocol.js';
import type { ProtocolMessage, TcpSegmentMarker } from '../../src/protocols/types.js';

/** A message named by its flow id, so the merged order reads as a list of numbers. */
const msg = (id: number): TcpSegmentMarker => ({
  protocol: 'tcp', kind: 'syn', dir: 'c2s', ts: BigInt(id), tsEnd: BigInt(id), flowId: id,
  src: { ip: '10.0.0.1', port: 1 }, dst: { ip: '10.0.0.2', port: 2 },
});

/** A batch from `worker`: messages [key, id] (id = flowId), then the worker's watermark. */
function batch(worker: number, entries: [key: number, id: number][], watermark: number, watermarkTs = 0n): BatchFromWorker {
  const p = new MessagePacker();
  for (const [, id] of entries) p.push(msg(id));
  return { type: 'batch', worker, keys: Float64Array.from(entries.map(([k]) => k)), messages: p.take(), watermark, watermarkTs };
}

function merger(workers: number): { m: WatermarkMerger; out: number[] } {
  const out: number[] = [];
  const m = new WatermarkMerger(workers, (x: ProtocolMessage) => out.push(x.flowId));
  return { m, out };
}

describe('WatermarkMerger: the workers\' streams back in capture order', () => {
  it('releases a message only when every other worker has passed its key', () => {
    const { m, out } = merger(2);
    m.push(batch(0, [[0, 100], [2, 102], [4, 104]], 4));
    expect(out).toEqual([]); // worker 1 said nothing yet: it may still emit key 0
    expect(m.pending).toBe(3);
    m.push(batch(1, [[1, 101], [3, 103]], 3));
    expect(out).toEqual([100, 101, 102, 103]); // 104 waits: worker 1 may still emit key 4
    expect(m.pending).toBe(1);
    m.push(batch(1, [], 5, 123n)); // an idle worker's watermark alone moves the merge on
    expect(out).toEqual([100, 101, 102, 103, 104]);
    expect(m.watermarkTs).toEqual([0n, 123n]);
    expect(m.pending).toBe(0);
  });

  it('keeps a worker\'s own order across batches and interleaves three workers by key', () => {
    const { m, out } = merger(3);
    m.push(batch(2, [[2, 2], [5, 5]], 6));
    m.push(batch(0, [[0, 0], [3, 3]], 3));
    expect(out).toEqual([]);
    m.push(batch(1, [[1, 1]], 1));
    expect(out).toEqual([0, 1]); // 2 waits: worker 1 (watermark 1) might still emit key 2
    m.push(batch(1, [[4, 4], [7, 7]], 7));
    m.push(batch(0, [[6, 6]], 8));
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6]); // 7 waits for worker 2 (watermark 6)
    m.close(2);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('flushes end-of-capture messages (equal keys) by worker index once every worker closed', () => {
    const { m, out } = merger(2);
    m.push(batch(1, [[FLUSH_KEY, 11], [FLUSH_KEY, 12]], FLUSH_KEY));
    m.push(batch(0, [[5, 1], [FLUSH_KEY, 2]], FLUSH_KEY));
    expect(out).toEqual([1, 2, 11, 12]);
    m.close(0);
    m.close(1);
    expect(out).toEqual([1, 2, 11, 12]);
  });

  it('a closed (or dead) worker never holds the others back', () => {
    const { m, out } = merger(2);
    m.push(batch(0, [[10, 10], [20, 20]], 20));
    m.close(1);
    expect(out).toEqual([10, 20]);
  });

  it('stays in order over long runs from one worker (queue compaction)', () => {
    const { m, out } = merger(2);
    const n = 10_000;
    m.push(batch(0, Array.from({ length: n }, (_, i): [number, number] => [2 * i, 2 * i]), 2 * n));
    m.push(batch(1, Array.from({ length: n }, (_, i): [number, number] => [2 * i + 1, 2 * i + 1]), 2 * n));
    expect(out).toEqual(Array.from({ length: 2 * n }, (_, i) => i));
    expect(m.pending).toBe(0);
    m.push(batch(0, [[2 * n + 5, -5]], 2 * n + 5));
    m.push(batch(1, [[2 * n + 4, -4]], 2 * n + 5));
    expect(out.slice(-2)).toEqual([-4, -5]);
  });
});
