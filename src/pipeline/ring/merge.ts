import type { ProtocolMessage } from '../../protocols/types.js';
import { unpackMessages } from './batch-codec.js';
import type { BatchFromWorker } from './protocol.js';

/** A traced message's way through the pipeline (wall clock, µs since the epoch). */
export interface MessageTiming {
  /** The worker took the packets that made it from its ring… */
  readUs: number;
  /** …posted its batch… */
  postedUs: number;
  /** …the main thread received the batch… */
  receivedUs: number;
  /** …and the merge released the message (every other worker had promised nothing earlier). */
  releasedUs: number;
}

/**
 * K-way merge of the workers' message streams back into capture order. Keys are
 * capture sequence numbers, assigned by the single capture thread in wire order, so
 * the merged stream is what one decoder over the whole capture would emit (ties only
 * at the end-of-capture flush, broken by worker index). A message is released once
 * every worker either has an earlier-or-equal message queued or has promised
 * (watermark) never to emit a key that small again.
 */
export class WatermarkMerger {
  private readonly keys: number[][];
  private readonly msgs: ProtocolMessage[][];
  /** Latency tracing only: each queued message's batch timing (shared by the batch's messages). */
  private readonly stamps: MessageTiming[][];
  private readonly heads: number[];
  private readonly watermarks: number[];
  /** Wire timestamp of each worker's newest packet (for display / lag). */
  readonly watermarkTs: bigint[];

  constructor(workers: number, private readonly out: (msg: ProtocolMessage, timing?: MessageTiming) => void,
    private readonly clock?: () => number) {
    this.keys = Array.from({ length: workers }, () => []);
    this.msgs = Array.from({ length: workers }, () => []);
    this.stamps = Array.from({ length: workers }, () => []);
    this.heads = new Array<number>(workers).fill(0);
    this.watermarks = new Array<number>(workers).fill(-1);
    this.watermarkTs = new Array<bigint>(workers).fill(0n);
  }

  push(batch: BatchFromWorker): void {
    const w = batch.worker;
    const keys = this.keys[w]!;
    const msgs = this.msgs[w]!;
    const unpacked = unpackMessages(batch.messages);
    for (let i = 0; i < batch.keys.length; i++) {
      keys.push(batch.keys[i]!);
      msgs.push(unpacked[i]!);
    }
    if (this.clock !== undefined && batch.keys.length > 0) {
      const t = batch.timing;
      const receivedUs = this.clock();
      const stamp: MessageTiming = { readUs: t?.readUs ?? receivedUs, postedUs: t?.postedUs ?? receivedUs, receivedUs, releasedUs: 0 };
      for (let i = 0; i < batch.keys.length; i++) this.stamps[w]!.push(stamp);
    }
    this.watermarks[w] = Math.max(this.watermarks[w]!, batch.watermark);
    this.watermarkTs[w] = batch.watermarkTs;
    this.release();
  }

  /** `worker` will emit no key ≤ `key` (a promise made for it by the main thread). */
  promise(worker: number, key: number): void {
    if (key <= this.watermarks[worker]!) return;
    this.watermarks[worker] = key;
    this.release();
  }

  /** A worker finished (or died): nothing more will come from it. */
  close(worker: number): void {
    this.watermarks[worker] = Infinity;
    this.release();
  }

  /** Messages of `worker` still held back (waiting for a slower worker). */
  pendingOf(worker: number): number {
    return this.keys[worker]!.length - this.heads[worker]!;
  }

  /** Messages still held back (waiting for a slower worker). */
  get pending(): number {
    let n = 0;
    for (let w = 0; w < this.keys.length; w++) n += this.keys[w]!.length - this.heads[w]!;
    return n;
  }

  /**
   * The workers the merge waits for: nothing of theirs queued and a watermark below the
   * smallest key queued by another worker.
   */
  blockers(): number[] {
    let bestKey = Infinity;
    for (let w = 0; w < this.keys.length; w++) {
      const h = this.heads[w]!;
      if (h < this.keys[w]!.length && this.keys[w]![h]! < bestKey) bestKey = this.keys[w]![h]!;
    }
    const out: number[] = [];
    if (bestKey === Infinity) return out;
    for (let w = 0; w < this.keys.length; w++) {
      if (this.heads[w]! >= this.keys[w]!.length && this.watermarks[w]! < bestKey) out.push(w);
    }
    return out;
  }

  private release(): void {
    const W = this.keys.length;
    for (;;) {
      let best = -1;
      let bestKey = Infinity;
      for (let w = 0; w < W; w++) {
        const h = this.heads[w]!;
        if (h < this.keys[w]!.length && this.keys[w]![h]! < bestKey) { bestKey = this.keys[w]![h]!; best = w; }
      }
      if (best < 0) break;
      // Safe only if every worker without a queued message is past bestKey.
      let safe = true;
      for (let w = 0; w < W && safe; w++) {
        if (this.heads[w]! >= this.keys[w]!.length && this.watermarks[w]! < bestKey) safe = false;
      }
      if (!safe) break;
      const h = this.heads[best]!;
      const msg = this.msgs[best]![h]!;
      let timing: MessageTiming | undefined;
      if (this.clock !== undefined) timing = { ...this.stamps[best]![h]!, releasedUs: this.clock() };
      this.heads[best] = h + 1;
      this.compact(best);
      this.out(msg, timing);
    }
  }

  private compact(w: number): void {
    const h = this.heads[w]!;
    if (h > 4096 && h * 2 > this.keys[w]!.length) {
      this.keys[w]!.splice(0, h);
      this.msgs[w]!.splice(0, h);
      if (this.clock !== undefined) this.stamps[w]!.splice(0, h);
      this.heads[w] = 0;
    }
  }
}
