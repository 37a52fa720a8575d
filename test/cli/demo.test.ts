/**
 * `migscope demo` is the README's first command: it must generate a migration, watch it
 * in real time (sped up here) and end with the phase table, exit 0, no temp file left.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const cli = join(resolve(__dirname, '../..'), 'bin/migscope.js');
const exec = promisify(execFile);

describe('migscope demo', () => {
  for (const [scenario, phases] of [
    ['openstack', ['Authentication', 'Initialize', 'Remote connect', 'Preparation', 'Transfer', 'Finish', 'Cleanup', 'Post-migration']],
    ['kvm', ['Remote connect', 'Preparation', 'Transfer', 'Finish', 'Cleanup']],
  ] as const) {
    it(`${scenario}: watches the generated migration to its summary table`, async () => {
      const { stdout, stderr } = await exec('node', [cli, 'demo', '--scenario', scenario, '--speed', '40'], { timeout: 60_000 });
      expect(stderr).toBe('');
      const generated = /generated into (\S+),/.exec(stdout)?.[1];
      expect(generated, 'names its temp file').toBeDefined();
      expect(existsSync(generated!), 'temp file removed').toBe(false);
      expect(stdout).toMatch(/m1 completed, total \d+\.\d{6} s/);
      expect(stdout).toMatch(/outcome: completed/);
      for (const p of phases) expect(stdout, p).toMatch(new RegExp(`\\n  ${p} +\\d+\\.\\d{6} +\\d+\\.\\d{6}`));
      expect(stdout).toMatch(/downtime \d+\.\d{3} ms/);
    });
  }
  it('rejects a bad scenario in one line, exit 2', async () => {
    const err = await exec('node', [cli, 'demo', '--scenario', 'xen'], { timeout: 30_000 }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2, stderr: "migscope demo: --scenario must be openstack or kvm (got 'xen')\n" });
  });
});
