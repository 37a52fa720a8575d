import type { PhaseEvent } from '../phases/events.js';
import type { MpEvent } from './measurement-points.js';

/** What the service's event stream carries: phase events, and an aggregator's own. */
export type ServedEvent = PhaseEvent | MpEvent;

/** An event with its position in the service's stream (the `since` cursor of /api/events). */
export interface LoggedEvent { seq: number; event: ServedEvent }

export interface Subscriber {
  /** Called for every new event; returns false when the subscriber is gone. */
  deliver(e: LoggedEvent): boolean;
}

/**
 * The last `capacity` events, numbered from 1, and the live subscribers. Memory is
 * bounded by the capacity; each subscriber bounds its own queue (http.ts).
 */
export class EventLog {
  private readonly ring: (LoggedEvent | undefined)[];
  private next = 1;
  private readonly subscribers = new Set<Subscriber>();

  constructor(readonly capacity = 10_000) {
    this.ring = new Array<LoggedEvent | undefined>(capacity);
  }

  /** Sequence number of the newest event (0 before the first). */
  get lastSeq(): number { return this.next - 1; }
  /** Oldest sequence number still held. */
  get firstSeq(): number { return Math.max(1, this.next - this.capacity); }

  append(event: ServedEvent): LoggedEvent {
    const e: LoggedEvent = { seq: this.next++, event };
    this.ring[e.seq % this.capacity] = e;
    for (const s of this.subscribers) if (!s.deliver(e)) this.subscribers.delete(s);
    return e;
  }

  /** Events with seq > since that are still held, oldest first. */
  since(since: number): LoggedEvent[] {
    const out: LoggedEvent[] = [];
    for (let seq = Math.max(since + 1, this.firstSeq); seq < this.next; seq++) out.push(this.ring[seq % this.capacity]!);
    return out;
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => { this.subscribers.delete(s); };
  }

  get subscriberCount(): number { return this.subscribers.size; }
}
