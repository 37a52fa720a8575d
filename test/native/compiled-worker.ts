import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * worker_threads run JavaScript: compile the decode worker and what it imports
 into <repo>/dist, the layout
 * `npm run build:ts` produces. Type errors in other lanes' files don't stop the emit.
 */
export function compileDecodeWorker(): void {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const entries = [path.join(root, 'src/pipeline/ring/decode-worker.ts')];
  const started = Date.now();
  try {
    execFileSync(process.execPath, [
      tsc, '--outDir', path.join(root, 'dist'), '--rootDir', root,
      '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
      '--strict', '--skipLibCheck', '--types', 'node', ...entries,
    ], { cwd: root, stdio: 'pipe', timeout: 120_000 });
  } catch (e) {
    const out = path.join(root, 'dist', 'src', 'pipeline', 'ring', 'decode-worker.js');
    if (!existsSync(out) || statSync(out).mtimeMs < started - 1000) throw e;
  }
}
