import { PS_PER_S } from '../core/time.js';
import type { ListenAddress } from './auth.js';
import { ServeCore } from './core.js';
import { ServeHttp } from './http.js';
import type { ServeItem } from './items.js';

export interface ServiceOptions {
  listen: ListenAddress;
  token?: string;
  version: string;
  /** Seconds of wire time without progress before `stalled`. */
  stallAfterSeconds: number;
  paced: boolean;
  speed?: number;
  maxClientBuffer?: number;
}

/** `migscope serve` without the command line: core + HTTP, fed by any item iterable. */
export class Service {
  readonly core: ServeCore;
  readonly http: ServeHttp;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: ServiceOptions) {
    this.core = new ServeCore({
      version: opts.version, paced: opts.paced, speed: opts.speed ?? 1,
      stallAfter: BigInt(Math.round(opts.stallAfterSeconds * 1e6)) * (PS_PER_S / 1_000_000n),
    });
    const http: ConstructorParameters<typeof ServeHttp>[1] = { listen: opts.listen };
    if (opts.token !== undefined) http.token = opts.token;
    if (opts.maxClientBuffer !== undefined) http.maxClientBuffer = opts.maxClientBuffer;
    this.http = new ServeHttp(this.core, http);
    // A paced source's clock runs between packets: check for stalls on the wall clock too.
    if (opts.paced) {
      this.timer = setInterval(() => this.core.tick(), 1000);
      this.timer.unref();
    }
  }

  start(): Promise<ListenAddress> { return this.http.start(); }

  /** Feeds `items` until they end or `signal` aborts. */
  consume(items: AsyncIterable<ServeItem>, signal?: AbortSignal): Promise<void> { return this.core.consume(items, signal); }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.http.stop();
  }
}
