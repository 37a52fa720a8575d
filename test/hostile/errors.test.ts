/**
 * Errors that must not escape: a full disk, a reader that goes away, a command line
 * without a command. One line on stderr, the documented exit status, no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanTrace, cli, expectOneLine, ndjson, runCli, tempDir } from './craft-files.js';

const haveDevFull = existsSync('/dev/full');

describe('write errors and usage', () => {
  const tmp = tempDir();
  let file = '';
  beforeAll(() => {
    file = cleanTrace(tmp.dir, 'g.pcap').file;
  });
  afterAll(() => tmp.cleanup());

  it.runIf(haveDevFull)('a full disk (ENOSPC) is one line and exit 1 for every output form and both paths', async () => {
    const cases = [
      ['analyze', file], ['analyze', '--json', file], ['analyze', '--msgpack', file], ['decode', file],
      ['analyze', '--json', '--workers', '2', file], ['decode', '--workers', '2', file],
      ['stats', '--format', 'csv', `${file}.truth.json`], ['analyze', '--help'], ['--help'],
    ];
    for (const args of cases) {
      const r = await runCli(args, { stdout: '/dev/full' });
      expect(r.code, args.join(' ')).toBe(1);
      expectOneLine(r.stderr, /cannot write to stdout: ENOSPC \(no space left on device\)/, args.join(' '));
    }
  });

  it('a reader that goes away (EPIPE) stops the run quietly, like a Unix filter', () => {
    for (const args of [['decode', file], ['analyze', '--msgpack', file], ['decode', '--workers', '2', file]]) {
      const quoted = args.map((a) => `'${a}'`).join(' ');
      const r = spawnSync('bash', ['-c', `set -o pipefail; node '${cli}' ${quoted} | head -c 100 > /dev/null`], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
    }
  });

  it('no arguments: the usage on stderr (stdout stays empty), exit 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^usage: migscope <command>/);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: migscope <command>/);
    expect(help.stderr).toBe('');
  });

  it('the output written before a failure is the clean run\'s output (nothing is invented)', async () => {
    const clean = await runCli(['analyze', '--json', file]);
    expect(clean.code, clean.stderr).toBe(0);
    const events = ndjson(clean.stdout);
    expect(events.filter((e) => e.type === 'migration-ended')).toHaveLength(1);
    const out = join(tmp.dir, 'events.ndjson');
    const toFile = await runCli(['analyze', '--json', file], { stdout: out });
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(ndjson(readFileSync(out, 'utf8'))).toEqual(events);
  });
});
