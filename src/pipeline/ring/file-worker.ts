import { parentPort, workerData } from 'node:worker_threads';
import { WorkerOutput } from './worker-output.js';
import { FILE_MAX_BATCHES_IN_FLIGHT, mustWait } from './flow-control.js';
import { FileShare } from './file-share.js';
import type { FileDoneFromWorker, FileWorkerData } from './protocol.js';

/**
 * A worker thread decoding one share of a capture file split by flows (./file-share.ts),
 * its messages posted in packed batches to the main thread's merge.
 */
const cfg = workerData as FileWorkerData;
const port = parentPort;
if (port === null) throw new Error('file-worker must run in a worker thread');

const out = new WorkerOutput(port, cfg.index, cfg.workers, cfg.flow);
// The main thread cannot take more (output blocked, or it holds too much of ours):
// the worker waits here, in Atomics.wait, and reads on later.
const share = new FileShare({ ...cfg, walk: cfg.walk ?? 'native' }, out, () => {
  while (mustWait(cfg.flow, cfg.index, 100, FILE_MAX_BATCHES_IN_FLIGHT));
  return undefined;
});
const r = await share.run();
const done: FileDoneFromWorker = { type: 'file-done', worker: cfg.index, messages: out.messages, ...r };
port.postMessage(done);
