import { PS_PER_MS, toSeconds, type Picos } from '../core/time.js';
import type { QemuMessage } from '../protocols/types.js';
import type { EngineContext } from './context.js';
import { estimateConvergence, type PassStart } from './convergence.js';
import type { StreamSummary } from './events.js';
import type { Migration } from './migration.js';
import type { BareQemuMigrations } from './bare-qemu.js';

/** Page counts by encoding, when the stream used XBZRLE or compression. */
function encodings(msg: { xbzrlePages?: number; xbzrleBytes?: number; compressedPages?: number; compressedBytes?: number }): Partial<StreamSummary> {
  return {
    ...(msg.xbzrlePages !== undefined ? { xbzrlePages: msg.xbzrlePages, xbzrleBytes: msg.xbzrleBytes ?? 0 } : {}),
    ...(msg.compressedPages !== undefined ? { compressedPages: msg.compressedPages, compressedBytes: msg.compressedBytes ?? 0 } : {}),
  };
}

/** Progress events at most this often (wire time), plus one at each new RAM pass. */
const PROGRESS_INTERVAL: Picos = 100n * PS_PER_MS;

interface PassState {
  prev?: PassStart;
  cur?: PassStart;
  lastPrecopyTs?: Picos;
  switchoverTs?: Picos;
  /** The last pre-copy packet before the switch-over: the VM stopped after it. */
  pausedAfter?: Picos;
}

/**
 * What a migration's main QEMU stream says once it is attached to the migration (the
 * flows and their owners are KvmTracker's): the pre-copy passes and the convergence
 * estimate, progress events, the switch-over, the pause as the stream shows it and the
 * stream's final figures.
 */
export class PrecopyStream {
  private readonly progressState = new WeakMap<Migration, { ts: Picos; bytes: number; mainBytes: number; iteration: number }>();
  /** The last two pre-copy pass starts (all the convergence estimate needs) and the
   *  latest pre-copy packet, which bounds when the VM paused. */
  private readonly passes = new WeakMap<Migration, PassState>();

  constructor(private readonly ctx: EngineContext, private readonly downtimeLimit: Picos, private readonly bare: BareQemuMigrations) {}

  /** A message of `m`'s main stream (multifd and encrypted streams have their own trackers). */
  on(m: Migration, msg: QemuMessage): void {
    switch (msg.kind) {
      case 'pass-started': {
        this.passEnded(m, msg.ts, msg.streamBytes, false);
        const s = this.passState(m);
        if (s.cur) s.prev = s.cur;
        s.cur = { iteration: msg.iteration, ts: msg.ts, bytes: msg.streamBytes };
        s.lastPrecopyTs = msg.ts;
        break;
      }
      case 'ram-chunk':
        this.passState(m).lastPrecopyTs = msg.ts;
        m.multifd?.chunkEnded();
        this.progress(m, msg.ts, msg.streamBytes, msg.iteration);
        break;
      case 'switchover': {
        // With multifd the pages (and so the passes) are on the channels.
        const mf = m.multifd;
        mf?.switchover();
        const iterations = mf ? Math.max(mf.passes, msg.iterations) : msg.iterations;
        const precopyBytes = msg.precopyBytes + (mf ? mf.bytes : 0);
        // A switch to post-copy ends pre-copy without converging: its last estimate stands.
        this.passEnded(m, msg.ts, msg.precopyBytes, msg.mechanism !== 'postcopy');
        const s = this.passState(m);
        s.switchoverTs = msg.ts;
        s.pausedAfter = s.lastPrecopyTs;
        m.emit({ type: 'switchover', migration: '', ts: msg.ts, iterations, precopyBytes, ...(msg.mechanism ? { mechanism: msg.mechanism } : {}) });
        if (msg.mechanism === 'postcopy') m.postcopyStart = msg.ts;
        this.ctx.downtime.onSwitchover(m, msg.ts);
        break;
      }
      case 'payload-cut':
        m.streamCut = true;
        break;
      case 'cut-end':
        m.stream = { bytes: msg.streamBytes, payloadCutBytes: msg.cutBytes };
        this.bare.cutCounted(m);
        break;
      case 'eof':
        m.streamEof = true;
        // eof.iterations counts the pre-copy passes and the stop-and-copy pass
        // (src/protocols/qemu/types.ts relates it to QEMU's dirty-sync-count).
        m.stream = {
          bytes: msg.streamBytes, iterations: msg.iterations,
          precopyBytes: msg.precopyBytes, stopCopyBytes: msg.stopCopyBytes,
          ...(msg.ramStopCopyBytes !== undefined ? { ramStopCopyBytes: msg.ramStopCopyBytes } : {}),
          ...(msg.postcopyBytes !== undefined ? { postcopyBytes: msg.postcopyBytes } : {}),
          ...(msg.requestLatency !== undefined ? { postcopyLatency: { ...msg.requestLatency } } : {}),
          ...encodings(msg),
        };
        this.pauseSeen(m, msg.ts);
        if (msg.postcopyBytes !== undefined) m.postcopyEnd = msg.ts;
        break;
      case 'page-request':
        // Post-copy page faults, counted until the migration closes (they can follow EOF).
        m.postcopyRequests = (m.postcopyRequests ?? 0) + 1;
        break;
      case 'cut':
        // A cancelled or failed stream: what it got through. It arrives just after the
        // FIN/RST marker that closed the stream (the decoder hears of the end last).
        m.stream = {
          bytes: msg.streamBytes, iterations: msg.iterations,
          precopyBytes: msg.precopyBytes, stopCopyBytes: msg.stopCopyBytes, ...encodings(msg),
        };
        m.awaitingCut = false;
        this.bare.settle(m);
        break;
      default:
        break;
    }
  }

  /**
   * A progress event: at most every PROGRESS_INTERVAL, and at each new pass. Bytes are
   * the main stream's (as of its last RAM chunk) plus all multifd channels'.
   */
  progress(m: Migration, ts: Picos, mainBytes?: number, mainIteration?: number): void {
    const last = this.progressState.get(m);
    const main = mainBytes ?? last?.mainBytes ?? 0;
    const mf = m.multifd;
    const iteration = mf && mf.passes > 0 ? mf.passes : (mainIteration ?? last?.iteration ?? 0);
    const bytes = main + (mf ? mf.bytes : 0);
    if (last && last.iteration === iteration && ts - last.ts < PROGRESS_INTERVAL) {
      last.mainBytes = main;
      return;
    }
    const since = last?.ts ?? m.phases.get('transfer')?.start ?? ts;
    const dt = toSeconds(ts - since);
    const rate = dt > 0 ? (bytes - (last?.bytes ?? 0)) / dt : 0;
    this.progressState.set(m, { ts, bytes, mainBytes: main, iteration });
    m.emit({ type: 'progress', migration: '', ts, bytes, rate, iteration, ...(m.cpuThrottle ? { throttle: m.cpuThrottle.last } : {}) });
  }

  private passState(m: Migration): PassState {
    let s = this.passes.get(m);
    if (!s) this.passes.set(m, (s = {}));
    return s;
  }

  /**
   * Pass `cur` ended at `ts`/`bytes`: emit its size and the convergence estimate. Not
   * with multifd: its pages (and so the passes' sizes) are on the channels.
   */
  private passEnded(m: Migration, ts: Picos, bytes: number, switchover: boolean): void {
    const s = this.passState(m);
    if (!s.cur || m.multifd) return;
    const est = estimateConvergence(s.prev, s.cur, ts, bytes, this.downtimeLimit, switchover);
    if (est) m.emit({ ...est, migration: '' });
  }

  /**
   * The VM pause as the stream shows it: from the switch-over (END(ram), written once
   * the VM stopped) to the end of stop-and-copy (EOF). The VM stopped after the last
   * pre-copy packet and before END(ram): the true pause is up to that gap longer.
   */
  private pauseSeen(m: Migration, eofTs: Picos): void {
    const s = this.passState(m);
    // After a switch to post-copy the VM runs on the destination long before EOF.
    if (s.switchoverTs === undefined || !m.stream || eofTs < s.switchoverTs || m.postcopyStart !== undefined) return;
    const min = eofTs - s.switchoverTs;
    const before = s.pausedAfter !== undefined && s.pausedAfter <= s.switchoverTs ? s.pausedAfter : s.switchoverTs;
    m.stream.pause = { start: s.switchoverTs, end: eofTs, min, max: eofTs - before };
  }
}
