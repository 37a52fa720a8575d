/**
 * `migscope serve` as a process: --demo produces migrations on its own, a file source
 * is served after it was read, and SIGTERM / SIGINT stop it cleanly (exit 0, port closed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeTrace } from '../../src/generate/write-trace.js';
import { startServe, tempDir, waitFor } from './helpers.js';

const tmp = tempDir('migscope-serve-life-');
afterAll(() => tmp.cleanup());

describe('serve lifecycle', () => {
  it('--demo replays generated migrations; SIGTERM stops it with exit 0', async () => {
    const serve = await startServe(['--demo', '--speed', '20']);
    try {
      const ended = await waitFor('a demo migration to end', async () => {
        const body = await (await fetch(`${serve.url}/api/migrations`)).json() as { migrations: { id: string; state: string; outcome?: string }[] };
        return body.migrations.find((m) => m.state === 'ended');
      }, 60_000);
      expect(ended).toMatchObject({ id: 'd1.m1', outcome: 'completed' });
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    expect(serve.stderr()).toMatch(/migscope serve: stopped\n$/);
    await expect(fetch(`${serve.url}/healthz`)).rejects.toThrow();
  }, 90_000);

  it('a file is read, then served until SIGINT', async () => {
    const file = `${tmp.dir}/one.pcap`;
    writeTrace(file, { scenario: 'kvm', runs: 1, seed: 2, payloadScale: 0.02 }, 'pcap');
    const serve = await startServe([file]);
    await serve.drained;
    const body = await (await fetch(`${serve.url}/api/migrations`)).json() as { migrations: { outcome?: string }[] };
    expect(body.migrations.map((m) => m.outcome)).toEqual(['completed']);
    serve.child.kill('SIGINT');
    expect(await serve.stop()).toBe(0);
  }, 60_000);
});
