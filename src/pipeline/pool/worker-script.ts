import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureError } from '../../core/errors.js';

/**
 * The capture worker's JavaScript file. From dist/ it sits next to this module; when
 * migscope runs from TypeScript sources (vitest), worker threads still need the
 * compiled copy in <repo>/dist, since they run plain JavaScript.
 */
export function captureWorkerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = path.join(path.dirname(here), 'capture-worker.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  let root = path.dirname(here);
  for (let i = 0; i < 6 && !existsSync(path.join(root, 'package.json')); i++) root = path.dirname(root);
  const compiled = path.join(root, 'dist', 'src', 'pipeline', 'pool', 'capture-worker.js');
  if (!existsSync(compiled)) {
    throw new CaptureError(`capture worker not compiled (${compiled} missing): run \`npm run build:ts\``);
  }
  return compiled;
}
