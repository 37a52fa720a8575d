/**
 * Every event stream ends with one `summary` record (docs/events.md): the figures the
 * table prints, for a consumer that reads the events only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMsgpackStream } from '../../src/core/msgpack.js';
import { writeTrace } from '../../src/generate/write-trace.js';
import { analyzeSources } from '../../src/pipeline/analyze.js';

const cli = join(resolve(__dirname, '../..'), 'bin/migscope.js');
const exec = promisify(execFile);

describe('the summary record closing analyze --json / --msgpack', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mgs-summary-'));
    file = join(dir, 'kvm-128.pcap');
    writeTrace(file, { scenario: 'kvm', runs: 2, payloadScale: 0.002, seed: 4 }, 'pcap', { snaplen: 128 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('NDJSON and msgpack end with the same summary: packets, bytes, cut bytes, losses, anomalies', async () => {
    const ref = await analyzeSources([file], { onEvent: () => {} });
    const json = (await exec('node', [cli, 'analyze', '--json', file], { maxBuffer: 64 << 20 })).stdout;
    const lines = json.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((e) => e.type === 'summary')).toHaveLength(1);
    const last = lines.at(-1)!;
    const src = ref.sources[0]!.stats!;
    expect(last).toEqual({
      type: 'summary', ts: String(ref.lastTs), firstTs: String(ref.firstTs), migrations: 2,
      packets: src.packets, bytes: src.bytes, cutBytes: ref.dissector!.tcp.cutBytes, lostBytes: 0,
      ringDrops: 0, kernelDrops: 0, lostFrames: 0, malformedRecords: 0, truncatedSources: [], anomalies: ref.anomalies,
    });
    expect(last.cutBytes).toBeGreaterThan(0);
    const mp = await exec('node', [cli, 'analyze', '--msgpack', file], { encoding: 'buffer', maxBuffer: 64 << 20 });
    const records = decodeMsgpackStream(new Uint8Array(mp.stdout)) as Record<string, unknown>[];
    const m = records.at(-1)!;
    expect(m).toMatchObject({ type: 'summary', packets: src.packets, cutBytes: last.cutBytes, migrations: 2 });
    expect(m.ts).toBe(ref.lastTs);
  });
});
