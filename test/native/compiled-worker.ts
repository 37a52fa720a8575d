import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return newest;
}

/**
 * worker_threads run JavaScript: the decode workers load dist/ (`npm test` runs
 * `npm run build:ts` first). Tests never compile into dist/ themselves: two test files
 * doing so at once let a worker import a half-written module. A stale dist/ is an error.
 */
export function requireCompiledWorker(): void {
  const worker = path.join(root, 'dist', 'src', 'pipeline', 'ring', 'decode-worker.js');
  let built = 0;
  try {
    built = statSync(worker).mtimeMs;
  } catch {
    throw new Error(`${worker} missing: run \`npm run build:ts\` (npm test does)`);
  }
  if (built < newestSource(path.join(root, 'src'))) {
    throw new Error('dist/ is older than src/: run `npm run build:ts` (npm test does) before these tests');
  }
}
