export * from './types.js';
export * from './formats/index.js';
export { openCapture, type CaptureFile, type OpenCaptureOptions } from './file-source.js';
export { DpmiUnpacker, dpmiSendheadOffset, type DpmiFrameStats, type DpmiUnpackerOptions } from './dpmi/frames.js';
