/**
 * Capture readers on hostile and unusual inputs: pipes and FIFOs, corrupt records
 * (resynchronisation must recover every real record after the bad one), truncated
 * files. Each case is built from a clean generated trace whose events are the truth.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanTrace, ndjson, runCli, tempDir } from './craft-files.js';

describe('captures from pipes', () => {
  const tmp = tempDir();
  let file = '';
  let reference: Record<string, unknown>[] = [];
  beforeAll(async () => {
    file = cleanTrace(tmp.dir, 'g.pcap').file;
    const r = await runCli(['analyze', '--json', file]);
    expect(r.code, r.stderr).toBe(0);
    reference = ndjson(r.stdout);
    expect(reference.filter((e) => e.type === 'migration-ended')).toHaveLength(1);
  });
  afterAll(() => tmp.cleanup());

  it('reads `-` (standard input) and /dev/stdin, plain and gzip-compressed', async () => {
    const bytes = new Uint8Array(readFileSync(file));
    const gz = new Uint8Array(spawnSync('gzip', ['-c', file], { maxBuffer: 64 << 20 }).stdout);
    for (const [name, input] of [['-', bytes], ['/dev/stdin', bytes], ['-', gz]] as const) {
      const r = await runCli(['analyze', '--json', name], { stdin: input });
      expect(r.code, r.stderr).toBe(0);
      expect(ndjson(r.stdout), name).toEqual(reference);
    }
  });

  it('reads a FIFO', async () => {
    const fifo = join(tmp.dir, 'capture.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', `cat '${file}' > '${fifo}'`]);
    const written = new Promise((res) => writer.on('close', res));
    const r = await runCli(['analyze', '--json', fifo]);
    await written;
    expect(r.code, r.stderr).toBe(0);
    expect(ndjson(r.stdout)).toEqual(reference);
  });

  it('an empty pipe is one line, exit 1', async () => {
    const r = await runCli(['analyze', '-'], { stdin: new Uint8Array(0) });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/-: not a pcap, pcapng or DPMI capture \(an empty file\)/);
  });
});
