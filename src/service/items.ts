import type { PhaseEvent } from '../phases/events.js';
import type { MpEvent } from './measurement-points.js';

/** Cumulative counters of one capture source (they only grow while it runs). */
export interface CaptureSnapshot {
  /** The SOURCE as given (`iface:eth1`, a file path, `demo`). */
  source: string;
  packets: number;
  bytes: number;
  ringDrops: number;
  kernelDrops: number;
}

/**
 * What the service consumes: phase events and capture counters, from wherever they
 * come (a local capture pipeline, a replayed file, a message bus). The service never
 * asks where; it reads an async iterable of these.
 */
export type ServeItem =
  | { kind: 'event'; event: PhaseEvent }
  | { kind: 'capture'; capture: CaptureSnapshot }
  /** From an aggregator (`serve --subscribe`): clock offsets, MPs silent or back. */
  | { kind: 'mp'; event: MpEvent };

/**
 * Push → pull adapter for callback-based producers (the analysis pipeline calls
 * onEvent synchronously, between awaits on its input). Each pull takes everything
 * queued so far; the queue holds what one input batch produced.
 */
export class ItemQueue implements AsyncIterable<ServeItem> {
  private items: ServeItem[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  push(item: ServeItem): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ServeItem> {
    for (;;) {
      while (this.items.length > 0) {
        const batch = this.items;
        this.items = [];
        for (const item of batch) yield item;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }
}
