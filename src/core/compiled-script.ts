import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureError } from './errors.js';

/**
 * The JavaScript file of a worker module, for worker_threads or piscina, which run
 * plain JavaScript only. From dist/ it sits next to the module that asks (`fromUrl`,
 * its import.meta.url); when migscope runs from TypeScript sources (vitest), the
 * compiled copy in <repo>/dist/<srcDir> is used, which `npm run build:ts` writes.
 */
export function compiledWorkerScript(fromUrl: string, fileName: string, srcDir: string): string {
  const here = fileURLToPath(fromUrl);
  const sibling = path.join(path.dirname(here), fileName);
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  let root = path.dirname(here);
  for (let i = 0; i < 6 && !existsSync(path.join(root, 'package.json')); i++) root = path.dirname(root);
  const compiled = path.join(root, 'dist', srcDir, fileName);
  if (!existsSync(compiled)) {
    throw new CaptureError(`worker ${fileName} not compiled (${compiled} missing): run \`npm run build:ts\``);
  }
  return compiled;
}
