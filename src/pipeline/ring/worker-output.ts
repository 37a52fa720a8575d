import type { MessagePort } from 'node:worker_threads';
import { wallClockUs, type Picos } from '../../core/time.js';
import type { ProtocolMessage } from '../../protocols/types.js';
import { MessagePacker } from './batch-codec.js';
import { batchPosted } from './flow-control.js';
import type { BatchFromWorker } from './protocol.js';

/**
 * A decode worker's outgoing side: each message emitted while the packet with capture
 * sequence number `key` is decoded is tagged with that key, packed, and posted in
 * batches with a watermark for the main thread's WatermarkMerger.
 */
export class WorkerOutput {
  /** Sequence number of the packet being decoded (FLUSH_KEY during the end flush). */
  key = -1;
  messages = 0;
  /** With latency tracing: when the batch's first packets were taken from the ring (wallClockUs), else -1. */
  private readUs = -1;
  private keys = new Float64Array(1024);
  private readonly packer = new MessagePacker();
  private lastPostedWatermark = -2;

  constructor(private readonly port: MessagePort, private readonly index: number, private readonly workers: number,
    private readonly flow: Int32Array, private readonly traceLatency = false) {}

  /** The worker takes packets from its ring now (latency tracing: the read that made the batch's first message). */
  reading(): void {
    if (this.traceLatency && this.packer.length === 0) this.readUs = wallClockUs();
  }

  /** The decoder's Emit. Flow ids are per worker: made unique over the run (worker index in the low digits). */
  readonly emit = (msg: ProtocolMessage): void => {
    if (msg.flowId >= 0) msg.flowId = msg.flowId * this.workers + this.index;
    const n = this.packer.length;
    if (n === this.keys.length) {
      const keys = new Float64Array(n * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    this.keys[n] = this.key;
    this.packer.push(msg);
    this.messages++;
  };

  get pending(): number {
    return this.packer.length;
  }

  /** Whether `watermark` differs from the last one posted (an idle worker's news). */
  newWatermark(watermark: number): boolean {
    return watermark !== this.lastPostedWatermark;
  }

  /** Posts what was emitted so far; the worker promises no key ≤ watermark again. */
  post(watermark: number, watermarkTs: Picos): void {
    const n = this.packer.length;
    const packed = this.packer.take();
    const batch: BatchFromWorker = {
      type: 'batch', worker: this.index, keys: this.keys.subarray(0, n), messages: packed, watermark, watermarkTs,
    };
    if (this.traceLatency) {
      const postedUs = wallClockUs();
      batch.timing = { readUs: this.readUs < 0 ? postedUs : this.readUs, postedUs };
      this.readUs = -1;
    }
    batchPosted(this.flow, this.index);
    // The typed arrays move instead of being copied; the rest is structured-cloned.
    this.port.postMessage(batch, [batch.keys.buffer as ArrayBuffer, packed.kinds.buffer as ArrayBuffer, packed.nums.buffer as ArrayBuffer]);
    this.keys = new Float64Array(Math.max(1024, n));
    this.lastPostedWatermark = watermark;
  }
}
