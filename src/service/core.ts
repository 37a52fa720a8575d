import type { Picos } from '../core/time.js';
import type { PhaseEvent } from '../phases/events.js';
import { MigrationBoard } from './board.js';
import { WireClock } from './clock.js';
import { EventLog } from './event-log.js';
import type { ServeItem } from './items.js';
import { ServeMetrics } from './metrics.js';
import { MeasurementPointBoard } from './measurement-points.js';
import { findStalls } from './stall.js';

export interface ServeCoreOptions {
  version: string;
  /** Wire time without progress after which a running migration is `stalled`. */
  stallAfter: Picos;
  /** Sources keep wire time between packets (live capture, --realtime replay). */
  paced: boolean;
  speed?: number;
  keepRecent?: number;
  logCapacity?: number;
  /** Wall clock in ms for the paced wire clock (default performance.now; tests fake it). */
  wallMs?: () => number;
}

/**
 * The service's state, independent of where items come from and of HTTP: the
 * migration board, the metrics, the numbered event log and the stall detector.
 */
export class ServeCore {
  readonly board: MigrationBoard;
  readonly metrics: ServeMetrics;
  readonly log: EventLog;
  readonly clock: WireClock;
  /** Measurement points and their clock offsets (fed by `serve --subscribe` only). */
  readonly mps = new MeasurementPointBoard();

  get paced(): boolean { return this.opts.paced; }
  get speed(): number { return this.opts.speed ?? 1; }

  constructor(private readonly opts: ServeCoreOptions) {
    this.metrics = new ServeMetrics({ version: opts.version });
    this.board = new MigrationBoard(opts.keepRecent ?? 50, (id) => this.metrics.evicted(id));
    this.log = new EventLog(opts.logCapacity ?? 10_000);
    this.clock = new WireClock(opts.paced, opts.speed ?? 1, opts.wallMs);
  }

  push(item: ServeItem): void {
    if (item.kind === 'capture') {
      this.metrics.onCapture(item.capture);
      return;
    }
    if (item.kind === 'mp') {
      // Past the board's MP bound the events still stream, but add no metric series.
      if (this.mps.apply(item.event)) this.metrics.onMpEvent(item.event);
      this.log.append(item.event);
      return;
    }
    this.event(item.event);
    this.tick();
  }

  /** Reads `items` to their end (or until `signal` aborts). */
  async consume(items: AsyncIterable<ServeItem>, signal?: AbortSignal): Promise<void> {
    for await (const item of items) {
      this.push(item);
      if (signal?.aborted) return;
    }
  }

  /** Stall check at the clock's now (also called by a wall-clock timer for paced sources). */
  tick(): void {
    const now = this.clock.now();
    if (now === undefined) return;
    for (const ev of findStalls(this.board.runningViews(), now, this.opts.stallAfter)) {
      const view = this.board.get(ev.migration);
      if (view) this.board.setStalled(view, { phase: ev.phase, since: ev.since, idle: ev.idle });
      this.metrics.onEvent(ev, view);
      this.log.append(ev);
    }
  }

  private event(ev: PhaseEvent): void {
    if (ev.ts > 0n) this.clock.observe(ev.ts);
    const before = this.board.get(ev.migration)?.stalled;
    const view = this.board.apply(ev);
    if (before !== undefined && view?.stalled === undefined) this.metrics.unstalled(ev.migration);
    this.metrics.onEvent(ev, view);
    this.log.append(ev);
  }
}
