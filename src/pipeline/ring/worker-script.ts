import { compiledWorkerScript } from '../../core/compiled-script.js';

/** The decode worker's JavaScript file (dist/, next to this module once compiled). */
export function decodeWorkerScript(): string {
  return compiledWorkerScript(import.meta.url, 'decode-worker.js', 'src/pipeline/ring');
}
