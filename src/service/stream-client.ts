import type { LoggedEvent, Subscriber } from './event-log.js';

/** Where a live-stream client's bytes go: an HTTP response or a WebSocket. */
export interface StreamOut {
  write(text: string): void;
  /** Bytes handed over but not yet sent to the peer. */
  buffered(): number;
  close(): void;
}

export interface StreamClientOptions {
  out: StreamOut;
  format: (e: LoggedEvent) => string;
  /** Most bytes a client may have waiting; beyond it, it is disconnected. */
  maxBuffered: number;
  onDropped: () => void;
}

/**
 * A live-stream client with a bounded queue: events it cannot take fast enough are
 * not kept for it. When its unsent bytes pass `maxBuffered` it is disconnected (and
 * counted); an NDJSON client resumes with `since=<last seq>`, the dashboard reloads
 * its snapshot. A vanished client stops costing anything once its socket closes.
 */
export class StreamClient implements Subscriber {
  private closed = false;

  constructor(private readonly opts: StreamClientOptions) {}

  deliver(e: LoggedEvent): boolean {
    if (this.closed) return false;
    this.opts.out.write(this.opts.format(e));
    if (this.opts.out.buffered() > this.opts.maxBuffered) {
      this.closed = true;
      this.opts.onDropped();
      this.opts.out.close();
      return false;
    }
    return true;
  }

  /** The peer went away. */
  gone(): void { this.closed = true; }
  get isClosed(): boolean { return this.closed; }
}
