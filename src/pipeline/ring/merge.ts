import type { ProtocolMessage } from '../../protocols/types.js';
import { PackedCursor } from './batch-codec.js';
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

/** A batch's messages, read one at a time in order. */
export interface MessageSource {
  next(): ProtocolMessage;
}

/** One worker's batch waiting in the merge: its keys, and its messages read one at a time. */
interface QueuedBatch {
  keys: ArrayLike<number>;
  at: number;
  messages: MessageSource;
  /** Latency tracing only: the batch's timing (shared by its messages). */
  stamp?: MessageTiming;
}

/**
 * K-way merge of the workers' message streams back into capture order. Keys are
 * capture sequence numbers, assigned by the single capture thread in wire order (or a
 * packet's index in a file), so the merged stream is what one decoder over the whole
 * capture would emit (ties only at the end-of-capture flush, broken by worker index).
 * A message is released once every worker either has an earlier-or-equal message
 * queued or has promised (watermark) never to emit a key that small again.
 *
 * Batches wait as they came (typed arrays of keys and packed messages): a message
 * becomes an object only when it is released, and nothing is copied per message into
 * a queue of the merge's own.
 */
export class WatermarkMerger {
  private readonly queues: QueuedBatch[][];
  /** Index of each worker's current batch in its queue (batches before it are done). */
  private readonly heads: number[];
  private readonly held: number[];
  private readonly watermarks: number[];
  /** Wire timestamp of each worker's newest packet (for display / lag). */
  readonly watermarkTs: bigint[];

  constructor(workers: number, private readonly out: (msg: ProtocolMessage, timing?: MessageTiming) => void,
    private readonly clock?: () => number) {
    this.queues = Array.from({ length: workers }, () => []);
    this.heads = new Array<number>(workers).fill(0);
    this.held = new Array<number>(workers).fill(0);
    this.watermarks = new Array<number>(workers).fill(-1);
    this.watermarkTs = new Array<bigint>(workers).fill(0n);
  }

  push(batch: BatchFromWorker): void {
    let stamp: MessageTiming | undefined;
    if (this.clock !== undefined && batch.keys.length > 0) {
      const t = batch.timing;
      const receivedUs = this.clock();
      stamp = { readUs: t?.readUs ?? receivedUs, postedUs: t?.postedUs ?? receivedUs, receivedUs, releasedUs: 0 };
    }
    this.enqueue(batch.worker, batch.keys, batch.keys.length > 0 ? new PackedCursor(batch.messages) : undefined, batch.watermark, batch.watermarkTs, stamp);
  }

  /**
   * Messages of `worker` keyed by `keys` (as many as keys), then its watermark: for a
   * stream decoded on this thread, whose messages need no packing.
   */
  enqueue(worker: number, keys: ArrayLike<number>, messages: MessageSource | undefined, watermark: number, watermarkTs: bigint,
    stamp?: MessageTiming): void {
    const w = worker;
    if (keys.length > 0 && messages !== undefined) {
      this.queues[w]!.push(stamp !== undefined ? { keys, at: 0, messages, stamp } : { keys, at: 0, messages });
      this.held[w]! += keys.length;
    }
    this.watermarks[w] = Math.max(this.watermarks[w]!, watermark);
    this.watermarkTs[w] = watermarkTs;
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
    return this.held[worker]!;
  }

  /** Messages still held back (waiting for a slower worker). */
  get pending(): number {
    let n = 0;
    for (const h of this.held) n += h;
    return n;
  }

  /**
   * The workers the merge waits for: nothing of theirs queued and a watermark below the
   * smallest key queued by another worker.
   */
  blockers(): number[] {
    let bestKey = Infinity;
    for (let w = 0; w < this.queues.length; w++) {
      const k = this.headKey(w);
      if (k < bestKey) bestKey = k;
    }
    const out: number[] = [];
    if (bestKey === Infinity) return out;
    for (let w = 0; w < this.queues.length; w++) {
      if (this.held[w] === 0 && this.watermarks[w]! < bestKey) out.push(w);
    }
    return out;
  }

  /** Key of worker w's next message; Infinity when none is queued. */
  private headKey(w: number): number {
    if (this.held[w] === 0) return Infinity;
    const b = this.queues[w]![this.heads[w]!]!;
    return b.keys[b.at]!;
  }

  private release(): void {
    const W = this.queues.length;
    for (;;) {
      let best = -1;
      let bestKey = Infinity;
      for (let w = 0; w < W; w++) {
        const k = this.headKey(w);
        if (k < bestKey) { bestKey = k; best = w; }
      }
      if (best < 0) break;
      // Safe only if every worker without a queued message is past bestKey.
      let safe = true;
      for (let w = 0; w < W && safe; w++) {
        if (this.held[w] === 0 && this.watermarks[w]! < bestKey) safe = false;
      }
      if (!safe) break;
      // Release the best worker's run of messages up to the next other worker's head
      // key: they are all safe by the same argument, without a scan per message.
      let limit = Infinity;
      for (let w = 0; w < W; w++) if (w !== best) limit = Math.min(limit, this.held[w] === 0 ? this.watermarks[w]! + 0.25 : this.headKey(w));
      this.drain(best, limit);
    }
  }

  /**
   * Hands on worker w's messages in order while their key is below `limit` (equal keys
   * of a lower worker index go first, as the scan above would choose them).
   */
  private drain(w: number, limit: number): void {
    const queue = this.queues[w]!;
    let h = this.heads[w]!;
    let b = queue[h]!;
    do {
      if (b.stamp !== undefined && this.clock !== undefined) this.out(b.messages.next(), { ...b.stamp, releasedUs: this.clock() });
      else this.out(b.messages.next());
      this.held[w]!--;
      if (++b.at === b.keys.length) {
        queue[h] = undefined as unknown as QueuedBatch;
        h++;
        if (h === queue.length) { queue.length = 0; h = 0; break; }
        b = queue[h]!;
      }
    } while (b.keys[b.at]! < limit);
    if (h > 64 && h * 2 > queue.length) { queue.splice(0, h); h = 0; }
    this.heads[w] = h;
  }
}
