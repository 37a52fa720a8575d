import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { CapturedPacket } from '../../ingest/types.js';
import type { ProtocolMessage } from '../../protocols/types.js';
import { MessagePacker } from './batch-codec.js';
import { RingConsumer, readSeqFrontier } from '../../ingest/live/ring.js';
import { createPacketDecoder } from './packet-decoder.js';
import {
  FLOW_IN_FLIGHT, FLOW_PAUSED, FLUSH_KEY, MAX_BATCHES_IN_FLIGHT, type BatchFromWorker, type DecodeWorkerData, type DoneFromWorker, type WorkerCounters } from './protocol.js';

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
let keys: number[] = [];
const messages = new MessagePacker();
let currentKey = -1;
let watermark = -1;
let lastPostedWatermark = -2;

function emit(msg: ProtocolMessage): void {
  // Flow ids are per worker: make them unique over the run (worker index in the low digits).
  if (msg.flowId >= 0) msg.flowId = msg.flowId * cfg.workers + cfg.index;
  keys.push(currentKey);
  messages.push(msg);
  counters.messages++;
}

const decoder = createPacketDecoder(cfg.decoder, emit);
const countBytes = cfg.decoder === 'count';

function onPacket(pkt: CapturedPacket, seq: number): void {
  currentKey = seq;
  counters.packets++;
  counters.bytes += pkt.data.length;
  if (countBytes) {
    let s = 0;
    const d = pkt.data;
    for (let i = 0; i < d.length; i++) s += d[i] as number;
    counters.byteSum = (counters.byteSum + s) % 2 ** 32;
    counters.weightedSum = (counters.weightedSum + (seq + 1) * d.length) % 2 ** 32;
  }
  if (cfg.crashAfterPackets !== undefined && counters.packets > cfg.crashAfterPackets) {
    throw new Error(`fault injection: worker ${cfg.index} crashes after ${cfg.crashAfterPackets} packets`);
  }
  decoder.packet(pkt);
}

function post(): void {
  const packed = messages.take();
  const batch: BatchFromWorker = {
    type: 'batch', worker: cfg.index, keys: Float64Array.from(keys), messages: packed, watermark, watermarkTs: consumer.lastTs,
  };
  Atomics.add(cfg.flow, FLOW_IN_FLIGHT + cfg.index, 1);
  // The typed arrays move instead of being copied; the rest is structured-cloned.
  port!.postMessage(batch, [batch.keys.buffer as ArrayBuffer, packed.kinds.buffer as ArrayBuffer, packed.nums.buffer as ArrayBuffer]);
  keys = [];
  lastPostedWatermark = watermark;
}

let lastPost = performance.now();
let idleMs = 0.05;
for (;;) {
  // The main thread cannot take more now: leave the packets in the ring.
  if (Atomics.load(cfg.flow, FLOW_PAUSED) !== 0) {
    Atomics.wait(cfg.flow, FLOW_PAUSED, 1, 100);
    continue;
  }
  const inFlight = Atomics.load(cfg.flow, FLOW_IN_FLIGHT + cfg.index);
  if (inFlight >= MAX_BATCHES_IN_FLIGHT) {
    Atomics.wait(cfg.flow, FLOW_IN_FLIGHT + cfg.index, inFlight, 100);
    continue;
  }
  const n = consumer.drain(onPacket, 512);
  if (n > 0) {
    watermark = consumer.lastSeq;
    idleMs = 0.05;
    const now = performance.now();
    if (messages.length >= cfg.batchMessages || now - lastPost >= cfg.flushMs) { post(); lastPost = now; }
    continue;
  }
  if (consumer.ended) break;
  // Idle: everything before the frontier that belongs to us has been consumed (read the
  // frontier first, then see our ring still empty), so the watermark may move up to it.
  const frontier = readSeqFrontier(cfg.ring0, watermark);
  if (!consumer.hasData()) watermark = Math.max(watermark, frontier - 1);
  const now = performance.now();
  if (messages.length > 0 || (watermark !== lastPostedWatermark && now - lastPost >= cfg.flushMs)) {
    post();
    lastPost = now;
  }
  consumer.wait(idleMs);
  idleMs = Math.min(idleMs * 2, 2);
}

currentKey = FLUSH_KEY;
decoder.finish(consumer.endTs);
watermark = FLUSH_KEY;
post();
counters.wraps = consumer.wraps;
const done: DoneFromWorker = { type: 'done', worker: cfg.index, counters };
port.postMessage(done);
