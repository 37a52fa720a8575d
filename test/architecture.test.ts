import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('architecture', () => {
  it('imports only go downward through the stages and form no cycle (scripts/check-imports.mjs)', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'check-imports.mjs')], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toMatch(/^imports ok: \d+ files/);
    expect(r.status).toBe(0);
  });
});
