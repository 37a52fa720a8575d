import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { WorkerOutput } from './worker-output.js';
import { RingConsumer, readSeqFrontier } from '../../ingest/live/ring.js';
import { createPacketDecoder } from './packet-decoder.js';
import { mustWait } from './flow-control.js';
import { FLUSH_KEY, type DecodeWorkerData, type DoneFromWorker, type WorkerCounters } from './protocol.js';

/**
 * One decode worker: owns one ring (hence a fixed set of flows), runs the dissector
 * on views into the ring and posts message batches tagged with capture sequence
 * numbers so the main thread can merge the workers back into capture order.
 */
const cfg = workerData as DecodeWorkerData;
const port = parentPort;
if (port === null) throw new Error('decode-worker must run in a worker thread');

const consumer = new RingConsumer(cfg.ring);
const counters: WorkerCounters = { packets: 0, bytes: 0, byteSum: 0, weightedSum: 0, messages: 0, wraps: 0 };
const out = new WorkerOutput(port, cfg.index, cfg.workers, cfg.flow, cfg.traceLatency);
let watermark = -1;

const decoder = createPacketDecoder(cfg.decoder, out.emit, cfg.limits);
const countBytes = cfg.decoder === 'count';

/** Each packet in place in the ring (no object, no view): counted, then decoded. */
function onRecord(data: Uint8Array, off: number, len: number, wireLength: number, linkType: number, sec: number, psec: number, seq: number): void {
  out.key = seq;
  counters.packets++;
  counters.bytes += len;
  if (countBytes) {
    let s = 0;
    for (let i = off; i < off + len; i++) s += data[i] as number;
    counters.byteSum = (counters.byteSum + s) % 2 ** 32;
    counters.weightedSum = (counters.weightedSum + (seq + 1) * len) % 2 ** 32;
  }
  if (cfg.crashAfterPackets !== undefined && counters.packets > cfg.crashAfterPackets) {
    throw new Error(`fault injection: worker ${cfg.index} crashes after ${cfg.crashAfterPackets} packets`);
  }
  decoder.recordAt(data, off, off + len, wireLength, linkType, sec, psec);
}

function post(): void {
  out.post(watermark, consumer.lastTs);
}

let lastPost = performance.now();
let idleMs = 0.05;
for (;;) {
  // The main thread cannot take more now: leave the packets in the ring.
  if (mustWait(cfg.flow, cfg.index, 100)) continue;
  out.reading();
  const n = consumer.drainRecords(onRecord, 512);
  if (n > 0) {
    watermark = consumer.lastSeq;
    idleMs = 0.05;
    const now = performance.now();
    if (out.pending >= cfg.batchMessages || now - lastPost >= cfg.flushMs) { post(); lastPost = now; }
    continue;
  }
  if (consumer.ended) break;
  // Idle: everything before the frontier that belongs to us has been consumed (read the
  // frontier first, then see our ring still empty), so the watermark may move up to it.
  const frontier = readSeqFrontier(cfg.ring0, watermark);
  if (!consumer.hasData()) watermark = Math.max(watermark, frontier - 1);
  const now = performance.now();
  if (out.pending > 0 || (out.newWatermark(watermark) && now - lastPost >= cfg.flushMs)) {
    post();
    lastPost = now;
  }
  consumer.wait(idleMs);
  idleMs = Math.min(idleMs * 2, 2);
}

out.key = FLUSH_KEY;
decoder.finish(consumer.endTs);
watermark = FLUSH_KEY;
post();
counters.wraps = consumer.wraps;
counters.messages = out.messages;
const done: DoneFromWorker = { type: 'done', worker: cfg.index, counters };
port.postMessage(done);
