/**
 * `stats` reads event files written by anyone: one enormous NDJSON line must be skipped
 * as it streams by (counted), not held whole; every other line is read as before.
 */
import { writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { boundedLines, MAX_EVENT_LINE } from '../../src/stats/load-events.js';
import { cleanTrace, runCli, tempDir } from './craft-files.js';

async function collect(chunks: Buffer[], max: number): Promise<{ lines: string[]; overlong: number }> {
  const lines: string[] = [];
  let overlong = 0;
  for await (const l of boundedLines(Readable.from(chunks), max, () => overlong++)) lines.push(l);
  return { lines, overlong };
}

describe('NDJSON lines, bounded', () => {
  it('splits like split("\\n") whatever the chunking, CRLF included', async () => {
    const text = 'a\r\n\nbb\nccc\r\n{"x": "é"}\nlast';
    const bytes = Buffer.from(text, 'utf8');
    const truth = text.split('\n').map((l) => l.replace(/\r$/, ''));
    for (const size of [1, 2, 3, 7, bytes.length]) {
      const chunks: Buffer[] = [];
      for (let o = 0; o < bytes.length; o += size) chunks.push(bytes.subarray(o, o + size));
      expect((await collect(chunks, 100)).lines, `chunks of ${size}`).toEqual(truth);
    }
  });

  it('drops a line over the limit, counts it, keeps the lines around it', async () => {
    const chunks = [Buffer.from('one\n'), Buffer.from('x'.repeat(60)), Buffer.from('y'.repeat(60)), Buffer.from('\ntwo\n')];
    expect(await collect(chunks, 100)).toEqual({ lines: ['one', 'two'], overlong: 1 });
  });

  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('stats: a 64 MiB line is skipped and reported, the migration after it still counts', async () => {
    const { file } = cleanTrace(tmp.dir, 'g.pcap');
    const events = await runCli(['analyze', '--json', file]);
    expect(events.code, events.stderr).toBe(0);
    const nd = join(tmp.dir, 'big.ndjson');
    writeFileSync(nd, `{"type":"migration-ended","junk":"${'a'.repeat(64 << 20)}"}\n`);
    appendFileSync(nd, events.stdout);
    const r = await runCli(['stats', '--format', 'json', nd]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { included: number; skipped: Record<string, number> | { reason: string; count: number }[] };
    expect(out.included).toBe(1);
    expect(JSON.stringify(out)).toContain(`line longer than ${MAX_EVENT_LINE >> 20} MiB (skipped unread)`);
  });
});
