import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PublisherOptions {
  /** Publications awaiting their JetStream ack at once (the send window). Default 256. */
  window?: number;
  /** Publications kept until acked; push() waits while this many are held. Default 50 000. */
  maxBuffered?: number;
  /** Wait for an ack before resending, ms. Default 2000. */
  ackTimeout?: number;
  /** Pause after a failed publication before it is resent, ms. Default 250. */
  retryDelay?: number;
}

export interface PublisherCounts {
  /** Publications handed to push(). */
  accepted: number;
  /** Acked by JetStream (stored, or recognised as already stored). */
  acked: number;
  /** Acked as a duplicate of one the stream already held (a resend that had landed). */
  duplicates: number;
  /** Publications sent again after a failure or timeout. */
  resent: number;
  /** Failed attempts (server unreachable, timeout, no stream). */
  failures: number;
  /** Most publications held at once (sent or waiting, not yet acked). */
  peakBuffered: number;
}

interface Item {
  subject: string;
  data: Uint8Array;
  msgID: string;
  headers: MsgHdrs | undefined;
  attempts: number;
  inFlight: boolean;
}

/**
 * JetStream publishing that neither loses nor floods: every publication carries a
 * Nats-Msg-Id, is kept until JetStream acks it and is resent (same id, stored once)
 * when the ack does not come — the server restarting, the network gone. At most
 * `window` wait for acks at once; push() blocks its caller while another window waits
 * to be sent or `maxBuffered` are held, so a file source slows down to what NATS takes
 * (backpressure) and memory stays bounded.
 */
export class JetStreamPublisher {
  readonly counts: PublisherCounts = { accepted: 0, acked: 0, duplicates: 0, resent: 0, failures: 0, peakBuffered: 0 };
  private readonly held = new Map<string, Item>();
  private readonly waiting: Item[] = [];
  private inFlight = 0;
  private readonly window: number;
  private readonly maxBuffered: number;
  private readonly ackTimeout: number;
  private readonly retryDelay: number;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(private readonly js: JetStreamClient, opts: PublisherOptions = {}) {
    this.window = opts.window ?? 256;
    this.maxBuffered = opts.maxBuffered ?? 50_000;
    this.ackTimeout = opts.ackTimeout ?? 2000;
    this.retryDelay = opts.retryDelay ?? 250;
  }

  get buffered(): number {
    return this.held.size;
  }

  async push(subject: string, data: Uint8Array, msgID: string, headers?: MsgHdrs): Promise<void> {
    // Backpressure: no more than a window waits unsent, and at most maxBuffered are held.
    while ((this.waiting.length >= this.window || this.held.size >= this.maxBuffered) && !this.closed) await this.changed();
    const item: Item = { subject, data, msgID, headers, attempts: 0, inFlight: false };
    this.counts.accepted++;
    this.held.set(msgID, item);
    if (this.held.size > this.counts.peakBuffered) this.counts.peakBuffered = this.held.size;
    this.waiting.push(item);
    this.pump();
  }

  /** Resolves when everything pushed so far is acked. */
  async flush(): Promise<void> {
    while (this.held.size > 0 && !this.closed) await this.changed();
  }

  /** Stops resending (what is still held is abandoned). */
  close(): void {
    this.closed = true;
    this.signal();
  }

  private pump(): void {
    while (this.inFlight < this.window && this.waiting.length > 0 && !this.closed) {
      const item = this.waiting.shift()!;
      item.inFlight = true;
      if (item.attempts++ > 0) this.counts.resent++;
      this.inFlight++;
      const opts: { msgID: string; timeout: number; retries: number; headers?: MsgHdrs } = { msgID: item.msgID, timeout: this.ackTimeout, retries: 0 };
      if (item.headers) opts.headers = item.headers;
      this.js.publish(item.subject, item.data, opts).then(
        (ack) => this.done(item, ack),
        () => this.failed(item),
      );
    }
  }

  private done(item: Item, ack: PubAck): void {
    this.inFlight--;
    item.inFlight = false;
    this.counts.acked++;
    if (ack.duplicate) this.counts.duplicates++;
    this.held.delete(item.msgID);
    this.signal();
    this.pump();
  }

  private failed(item: Item): void {
    this.inFlight--;
    item.inFlight = false;
    this.counts.failures++;
    void sleep(this.retryDelay).then(() => {
      this.waiting.push(item);
      this.pump();
    });
    this.signal();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => {
      const prev = this.wake;
      this.wake = () => { prev?.(); resolve(); };
    });
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
