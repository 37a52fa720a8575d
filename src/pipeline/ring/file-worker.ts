import { parentPort, workerData } from 'node:worker_threads';
import { openCapture } from '../../ingest/file-source.js';
import { Dissector } from '../../dissect/dissector.js';
import { WorkerOutput } from './worker-output.js';
import { mustWait } from './flow-control.js';
import { FlowSplitter } from './flow-split.js';
import { FLUSH_KEY, type FileDoneFromWorker, type FileWorkerData } from './protocol.js';

/**
 * One of N workers analysing a capture file together. Every worker reads the whole
 * file (the reader's pass over record headers is cheap; the file is in the page cache
 * once for all of them) and decodes only the packets of its own flows (FlowSplitter):
 * no thread hands packets to another, so none is copied. Messages are tagged with the
 * packet's index in the file, which all workers count alike, and merged back into file
 * order on the main thread exactly as for the live ring path.
 */
const cfg = workerData as FileWorkerData;
const port = parentPort;
if (port === null) throw new Error('file-worker must run in a worker thread');

const out = new WorkerOutput(port, cfg.index, cfg.workers, cfg.flow);
const dissector = new Dissector(out.emit, cfg.limits);
const splitter = new FlowSplitter(cfg.workers);
const capture = await openCapture(cfg.path, cfg.map !== undefined ? { map: cfg.map } : {});
let seq = -1;
let packets = 0;
let bytes = 0;
let lastPosted = 0;
let lastTs = 0n;
for await (const b of capture.packetBatches()) {
  // The main thread cannot take more (its output is blocked): read on later.
  while (mustWait(cfg.flow, cfg.index, 100));
  for (let i = 0; i < b.length; i++) {
    seq++;
    const off = b.off[i]!;
    const end = off + b.len[i]!;
    const buf = b.buf[i]!;
    const sec = b.sec[i]!, psec = b.psec[i]!;
    // Housekeeping (flow expiry, anomaly flushes) runs at every packet's time in every
    // worker, keyed just before the packet: one dissector runs it before decoding it.
    out.key = seq - 0.5;
    dissector.passedAt(sec, psec);
    if (splitter.owner(buf, off, end, b.wire[i]!, b.linkType[i]!) !== cfg.index) continue;
    out.key = seq;
    packets++;
    bytes += b.len[i]!;
    dissector.recordAt(buf, off, end, b.wire[i]!, b.linkType[i]!, sec, psec);
  }
  // Post every few thousand packets: the merger needs the watermark even from a worker
  // whose flows are quiet, and postMessage costs ~20 µs, too much per 128 KiB chunk.
  if (out.pending >= cfg.batchMessages || seq - lastPosted >= cfg.postEveryPackets) {
    out.post(seq, b.length > 0 ? b.ts(b.length - 1) : lastTs);
    lastPosted = seq;
  }
  if (b.length > 0) lastTs = b.ts(b.length - 1);
}
// Every worker ends its flows at the file's last packet time, as one Dissector would.
out.key = FLUSH_KEY;
dissector.finish(lastTs);
out.post(FLUSH_KEY, lastTs);
const done: FileDoneFromWorker = {
  type: 'file-done', worker: cfg.index, packets, bytes, messages: out.messages,
  format: capture.format, reader: { ...capture.stats }, ...(capture.problem !== undefined ? { problem: capture.problem } : {}),
};
port.postMessage(done);
