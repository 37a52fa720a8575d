import type { Writable } from 'node:stream';
import { OutputError } from '../core/errors.js';

/** The part of a Writable (process.stdout, a file stream) the output needs. */
export type OutputTarget = Pick<Writable, 'write' | 'once' | 'on' | 'off' | 'writableLength' | 'writableNeedDrain' | 'errored'>;

/** The reader went away (`migscope decode F | head`): a Unix filter then stops quietly. */
const READER_GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

/**
 * Every byte migscope writes to stdout goes through here, so that two things are handled
 * in one place:
 *
 * - **Backpressure.** `ready()` tells the pipeline to wait until a slow reader (a pipe to
 *   `less`, a slow disk) has taken what was written, instead of queueing the whole
 *   output in the heap. The pipeline awaits it between batches of packets.
 * - **Write errors.** ENOSPC, EIO, EPIPE… arrive as an 'error' event (or a throw from a
 *   synchronous file stream). The first one is kept, later writes are dropped, `signal`
 *   aborts so that the run stops reading, and `close()` turns it into one OutputError
 *   line (exit 1) — or, when the reader merely went away (EPIPE), a quiet stop.
 */
export class OutputStream {
  private failure: NodeJS.ErrnoException | undefined;
  private readonly abort = new AbortController();
  private waiting: Promise<void> | undefined;

  constructor(private readonly out: OutputTarget, private readonly name = 'stdout') {
    out.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
  }

  /** Aborted when the output failed: nothing more can be delivered, stop the run. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The reader closed its end (EPIPE): not an error for a filter. */
  get readerGone(): boolean {
    return this.failure !== undefined && READER_GONE.has(this.failure.code ?? '');
  }

  write(chunk: string | Uint8Array): void {
    if (this.failure !== undefined) return;
    try {
      this.out.write(chunk);
    } catch (err) {
      this.fail(err as NodeJS.ErrnoException);
    }
    // A synchronous file stream records its error before emitting it (on the next tick).
    const errored = this.out.errored as NodeJS.ErrnoException | null;
    if (errored) this.fail(errored);
  }

  /** undefined when the output can take more now; otherwise resolves once it drained (or failed). */
  ready(): Promise<void> | undefined {
    if (this.failure !== undefined || !this.out.writableNeedDrain) return undefined;
    this.waiting ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.out.off('drain', done);
        this.abort.signal.removeEventListener('abort', done);
        this.waiting = undefined;
        resolve();
      };
      this.out.once('drain', done);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
    return this.waiting;
  }

  /**
   * Waits until everything written has left the process. Throws one OutputError line when
   * a write failed; returns quietly when the reader went away.
   */
  async close(): Promise<void> {
    // Errors of writes made straight to the stream (help text) may still be on their way.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.out.errored) this.fail(this.out.errored);
    while (this.failure === undefined && this.out.writableLength > 0) {
      // Below the high-water mark no 'drain' comes: look again shortly.
      await (this.ready() ?? new Promise<void>((resolve) => setTimeout(resolve, 5)));
    }
    if (this.failure === undefined || this.readerGone) return;
    const f = this.failure;
    throw new OutputError(`cannot write to ${this.name}: ${f.code ? `${f.code} ` : ''}${describe(f)}`, { cause: f });
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.abort.abort(err);
  }
}

/** The system's words for an errno error, without Node's "CODE: … , write" decoration. */
function describe(err: NodeJS.ErrnoException): string {
  const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
  return `(${(m?.[1] ?? err.message).split('\n')[0]})`;
}

let stdoutStream: OutputStream | undefined;

/** The process's stdout as an OutputStream (one per process: it owns the error listener). */
export function stdout(): OutputStream {
  stdoutStream ??= new OutputStream(process.stdout);
  return stdoutStream;
}
