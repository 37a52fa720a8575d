/**
 * Flow control between the main thread and decode workers (ring or file workers), in
 * shared memory. A worker takes no more packets while the main thread's output is
 * blocked (slow reader of stdout) or while MAX_BATCHES_IN_FLIGHT of its batches wait in
 * the main thread's queue: the packets stay where they are instead of piling up in the
 * main thread's heap — a live capture's ring fills (counted ring drops), a file is
 * simply read later.
 */

/**
 * words[FLOW_PAUSED] ≠ 0: the output is blocked. words[FLOW_IN_FLIGHT + 2w]: worker w's
 * batches not yet merged; words[FLOW_IN_FLIGHT + 2w + 1] ≠ 0: the merger holds too many of
 * worker w's messages (it is ahead of a slower worker whose watermark they wait for).
 */
export const FLOW_PAUSED = 0;
export const FLOW_IN_FLIGHT = 1;
/** Batches (≤ batchMessages each) a worker may have queued in the main thread. */
export const MAX_BATCHES_IN_FLIGHT = 8;
/** Messages of one worker the merger may hold back before that worker waits. */
export const MAX_HELD_MESSAGES = 4096;

/**
 * Slack of a file split (file-run.ts): its shares decode in lockstep through the merge,
 * and on a busy host a thread that loses its core for a few ms stalled the others at
 * 4096 messages (~10 ms of decoding). A file is read at the decoders' pace, so more
 * held messages cost memory only (~10 MB at 64 Ki messages), never drops.
 */
export const FILE_MAX_HELD_MESSAGES = 65_536;
export const FILE_MAX_BATCHES_IN_FLIGHT = 32;

/** Worker side: true while the worker must not take packets; waits up to `ms` for a change first. */
export function mustWait(flow: Int32Array, worker: number, ms: number, maxInFlight = MAX_BATCHES_IN_FLIGHT): boolean {
  if (Atomics.load(flow, FLOW_PAUSED) !== 0) {
    Atomics.wait(flow, FLOW_PAUSED, 1, ms);
    return true;
  }
  const inFlight = Atomics.load(flow, FLOW_IN_FLIGHT + 2 * worker);
  if (inFlight >= maxInFlight) {
    Atomics.wait(flow, FLOW_IN_FLIGHT + 2 * worker, inFlight, ms);
    return true;
  }
  if (Atomics.load(flow, FLOW_IN_FLIGHT + 2 * worker + 1) !== 0) {
    Atomics.wait(flow, FLOW_IN_FLIGHT + 2 * worker + 1, 1, ms);
    return true;
  }
  return false;
}

/** Worker side: one more batch posted. */
export function batchPosted(flow: Int32Array, worker: number): void {
  Atomics.add(flow, FLOW_IN_FLIGHT + 2 * worker, 1);
}

/** Main-thread side of the shared words. */
export class FlowControl {
  readonly words: Int32Array;
  private blocked = false;

  constructor(workers: number, private readonly backpressure?: () => Promise<void> | undefined, private readonly maxHeld = MAX_HELD_MESSAGES) {
    this.words = new Int32Array(new SharedArrayBuffer(4 * (FLOW_IN_FLIGHT + 2 * workers)));
  }

  /** Batches `worker` posted that were not merged yet (read after what they must follow). */
  inFlight(worker: number): number {
    return Atomics.load(this.words, FLOW_IN_FLIGHT + 2 * worker);
  }

  /** While the output is blocked (time spent so does not count against drain timeouts). */
  get paused(): boolean {
    return this.blocked;
  }

  /**
   * A batch of `worker` was merged: credit it back; hold back each worker whose messages
   * the merger keeps waiting (`heldOf`), so a fast worker cannot run a whole file ahead of
   * a slow one; and pause every worker while the output is blocked.
   */
  merged(worker: number, heldOf: (w: number) => number): void {
    Atomics.sub(this.words, FLOW_IN_FLIGHT + 2 * worker, 1);
    Atomics.notify(this.words, FLOW_IN_FLIGHT + 2 * worker);
    this.held(heldOf);
    const slow = this.blocked ? undefined : this.backpressure?.();
    if (!slow) return;
    this.blocked = true;
    Atomics.store(this.words, FLOW_PAUSED, 1);
    void slow.then(() => {
      this.blocked = false;
      Atomics.store(this.words, FLOW_PAUSED, 0);
      Atomics.notify(this.words, FLOW_PAUSED);
    });
  }

  /** Re-marks the workers the merger holds too much of (also when a worker ends and its watermark frees the others'). */
  held(heldOf: (w: number) => number): void {
    const workers = (this.words.length - FLOW_IN_FLIGHT) / 2;
    for (let w = 0; w < workers; w++) {
      const at = FLOW_IN_FLIGHT + 2 * w + 1;
      const over = heldOf(w) > this.maxHeld ? 1 : 0;
      if (Atomics.load(this.words, at) !== over) {
        Atomics.store(this.words, at, over);
        Atomics.notify(this.words, at);
      }
    }
  }
}
