import { analyzeCaptureFile, type CaptureFileResult, type CaptureTask } from './capture-task.js';

/**
 * piscina's task entry: one capture file per call. piscina loads this module in each
 * worker thread, so it must exist as plain JavaScript (dist/…/capture-worker.js).
 */
export default function analyzeInWorker(task: CaptureTask): Promise<CaptureFileResult> {
  return analyzeCaptureFile(task);
}
