/** Parallel analysis of many capture files (a piscina pool, one task per file). */
export { analyzeCaptureFile, type CaptureTask, type CaptureFileResult, type CaptureFileSummary } from './capture-task.js';
export {
  analyzeCaptureFiles, openCaptureAnalyzer, defaultJobs, totalBytes, MIN_BYTES_PER_THREAD,
  type CaptureAnalyzer, type AnalyzeFilesOptions,
} from './capture-pool.js';
