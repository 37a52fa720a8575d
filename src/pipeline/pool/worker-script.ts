import { compiledWorkerScript } from '../../core/compiled-script.js';

/** capture-worker.js, which piscina loads in each worker thread (compiled: plain JavaScript). */
export function captureWorkerScript(): string {
  return compiledWorkerScript(import.meta.url, 'capture-worker.js', 'src/pipeline/pool');
}
