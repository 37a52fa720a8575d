/**
 * `stats` reads event files written by anyone: one enormous NDJSON line must be skipped
 * as it streams by (counted), not held whole; every other line is read as before.
 */
import { writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { Encoder } from '@msgpack/msgpack';
import { codec, decodeMsgpackStream, decodeMsgpackValues, msgpackValueEnd } from '../../src/core/msgpack.js';
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

describe('msgpack event files, streamed', () => {
  const enc = new Encoder({ useBigInt64: true, extensionCodec: codec });
  const values: unknown[] = [
    { type: 'migration-started', ts: 1_700_000_000_000_000_000_000n, n: [1, -2, 3.5, null, true] },
    { type: 'x', s: 'é'.repeat(300), bin: new Uint8Array(70_000), deep: [[[[{ a: 1n << 40n }]]]] },
    -(1n << 70n), 'tail',
  ];
  const bytes = Buffer.concat(values.map((v) => enc.encode(v)));

  async function read(chunkSize: number, input = bytes, max = 1 << 20): Promise<{ got: unknown[]; problems: string[] }> {
    const chunks: Buffer[] = [];
    for (let o = 0; o < input.length; o += chunkSize) chunks.push(input.subarray(o, o + chunkSize));
    const got: unknown[] = [];
    const problems: string[] = [];
    for await (const v of decodeMsgpackValues(Readable.from(chunks), max, (w) => problems.push(w))) got.push(v);
    return { got, problems };
  }

  it('frames each value at its encoded length and decodes like the whole-buffer decoder, whatever the chunking', async () => {
    let at = 0;
    for (const v of values) {
      const e = enc.encode(v);
      expect(msgpackValueEnd(bytes, at)).toBe(at + e.length);
      expect(msgpackValueEnd(bytes.subarray(0, at + e.length - 1), at)).toBe(-1);
      at += e.length;
    }
    const truth = decodeMsgpackStream(new Uint8Array(bytes));
    for (const size of [3, 1000, 65536, bytes.length]) expect(await read(size), `chunks of ${size}`).toEqual({ got: truth, problems: [] });
  });

  it('a value over the limit or a cut last value ends the stream, counted; the values before it are kept', async () => {
    const truth = decodeMsgpackStream(new Uint8Array(bytes));
    expect(await read(4096, bytes.subarray(0, bytes.length - 2))).toEqual({ got: truth.slice(0, 3), problems: ['truncated'] });
    expect(await read(4096, bytes, 1000)).toEqual({ got: truth.slice(0, 1), problems: ['too-long'] });
  });

  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('stats: analyze --msgpack output read as a stream; a 64 MiB value after it and a cut file are reported', async () => {
    const { file } = cleanTrace(tmp.dir, 'g.pcap');
    const events = await runCli(['analyze', '--msgpack', file]);
    expect(events.code, events.stderr).toBe(0);
    const mp = join(tmp.dir, 'big.msgpack');
    writeFileSync(mp, events.stdoutBytes);
    appendFileSync(mp, enc.encode({ type: 'migration-ended', junk: 'a'.repeat(64 << 20) }));
    const cut = join(tmp.dir, 'cut.msgpack');
    writeFileSync(cut, events.stdoutBytes.subarray(0, events.stdoutBytes.length - 5));
    for (const [path, reason] of [[mp, `msgpack value longer than ${MAX_EVENT_LINE >> 20} MiB (rest of the file unread)`], [cut, 'msgpack file ends inside a value']] as const) {
      const r = await runCli(['stats', '--format', 'json', path]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { included: number };
      expect(out.included, path).toBe(1);
      expect(JSON.stringify(out)).toContain(reason);
    }
  });
});
