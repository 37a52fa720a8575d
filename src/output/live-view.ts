import type { Picos } from '../core/time.js';
import { describeAnomaly } from '../core/anomaly.js';
import type { PhaseEvent, PhaseName } from '../phases/events.js';
import { secondsUs } from './summary.js';

export interface LiveViewOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

interface Row {
  id: string;
  title: string;
  phase?: PhaseName;
  phaseStart?: Picos;
  done: { phase: PhaseName; duration: Picos; uncertain: boolean }[];
  bytes?: number;
  rate?: number;
  pass?: number;
  /** Stream bytes when the current pass began, and the size of pass 1 (≈ guest RAM). */
  passStartBytes?: number;
  firstPassBytes?: number;
  downtime?: Picos;
  outcome?: string;
  /** The latest pre-copy convergence verdict. */
  verdict?: string;
}

const BAR = 24;
/** Redraw at most this often (wall time) unless something other than progress happened. */
const REDRAW_MS = 80;
/** While a phase runs, redraw this often (wall time) so its elapsed time moves between events. */
const TICK_MS = 200;

export interface LiveViewOptions {
  /**
   * Wire seconds per wall second: 1 live, X for a replay at --speed X; undefined for a
   * file read as fast as it goes (the clock then moves with the packets only).
   */
  clockSpeed?: number;
}

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/**
 * The `watch` view. On a TTY: one block per migration (current phase with its elapsed
 * wire time, a transfer progress bar with bytes/rate/pass, finished phases), redrawn in
 * place with ANSI escapes. Otherwise: one plain line per event worth reading.
 */
export class LiveView {
  private readonly rows = new Map<string, Row>();
  private drawnLines = 0;
  private lastDraw = 0;
  /** The wire clock shown: the newest packet's time, run on by the wall clock between packets. */
  private now: Picos = 0n;
  /** Newest wire time seen and the wall time (ms) it was seen at. */
  private wireTs: Picos = 0n;
  private wireAt = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: LiveViewOutput, private readonly opts: LiveViewOptions = {}) {
    if (out.isTTY && opts.clockSpeed !== undefined) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref(); // never keeps the process alive
    }
  }

  /** A packet's (or message's) wire time: the clock the running phases are timed by. */
  onWire(ts: Picos): void {
    if (ts <= this.wireTs) return;
    this.wireTs = ts;
    this.wireAt = performance.now();
    if (ts > this.now) this.now = ts;
  }

  onEvent(ev: PhaseEvent): void {
    this.onWire(ev.ts);
    const row = this.update(ev);
    if (this.out.isTTY) {
      const t = performance.now();
      if (ev.type !== 'progress' || t - this.lastDraw >= REDRAW_MS) this.draw(t);
    } else {
      const line = this.plainLine(ev, row);
      if (line) this.out.write(`${line}\n`);
    }
  }

  /** Final redraw (TTY) so the last state stays on screen. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.out.isTTY) this.draw(performance.now());
  }

  /** Between packets the wire clock runs on at the clock speed (never backwards). */
  private tick(): void {
    let running = false;
    for (const r of this.rows.values()) if (r.phase !== undefined) running = true;
    if (!running || this.wireAt === 0) return;
    const t = performance.now();
    const ran = BigInt(Math.round((t - this.wireAt) * (this.opts.clockSpeed ?? 1) * 1e3)) * 1_000_000n; // µs → ps
    const clock = this.wireTs + ran;
    if (clock > this.now) this.now = clock;
    this.draw(t);
  }

  private update(ev: PhaseEvent): Row | undefined {
    if (ev.type === 'anomaly' && ev.migration === '') return undefined;
    let row = this.rows.get(ev.migration);
    if (ev.type === 'migration-started') {
      row = { id: ev.migration, title: `${ev.scenario} ${ev.source} → ${ev.destination}${ev.domain ? ` ${ev.domain}` : ''}`, done: [] };
      this.rows.set(ev.migration, row);
      return row;
    }
    if (!row) return undefined;
    switch (ev.type) {
      case 'phase-started':
        row.phase = ev.phase;
        row.phaseStart = ev.ts;
        break;
      case 'phase-ended':
        row.done.push({ phase: ev.phase, duration: ev.duration, uncertain: ev.uncertain !== undefined });
        if (row.phase === ev.phase) delete row.phase;
        break;
      case 'progress':
        if (ev.iteration !== row.pass) {
          if (ev.iteration === 2 && row.bytes !== undefined) row.firstPassBytes = row.bytes;
          row.passStartBytes = row.bytes ?? 0;
        }
        row.bytes = ev.bytes;
        row.rate = ev.rate;
        row.pass = ev.iteration;
        break;
      case 'downtime':
        row.downtime = ev.duration;
        break;
      case 'convergence':
        if (ev.verdict !== undefined) row.verdict = ev.verdict;
        break;
      case 'migration-ended':
        row.outcome = ev.outcome + (ev.reason ? ` (${ev.reason})` : '');
        delete row.phase;
        break;
      default:
        break;
    }
    return row;
  }

  private plainLine(ev: PhaseEvent, row: Row | undefined): string | undefined {
    const id = ev.migration || '-';
    switch (ev.type) {
      case 'migration-started': return `${id} started: ${row?.title ?? ''}`;
      case 'phase-started': return `${id} ${ev.phase} started`;
      case 'phase-ended': return `${id} ${ev.phase} ended after ${secondsUs(ev.duration)} s${ev.uncertain ? ` (uncertain: ${ev.uncertain})` : ''}`;
      case 'progress': return `${id} transfer pass ${ev.iteration}: ${human(ev.bytes)} at ${human(ev.rate)}/s`;
      case 'switchover': return `${id} switch-over after ${ev.iterations} passes (${human(ev.precopyBytes)} pre-copy)`;
      case 'downtime': return `${id} downtime ${secondsUs(ev.duration)} s (${ev.lost} echo requests lost)`;
      case 'migration-ended': return `${id} ${ev.outcome}${ev.reason ? ` (${ev.reason})` : ''}${ev.total !== undefined ? `, total ${secondsUs(ev.total)} s` : ''}`;
      case 'anomaly': return `${id} anomaly ${ev.code} ×${ev.count}: ${describeAnomaly(ev)}`;
      case 'convergence': return ev.verdict === 'will-not-converge'
        ? `${id} pass ${ev.iteration}: will not converge (dirty ${human(ev.dirtyRate ?? 0)}/s ≥ wire ${human(ev.wireRate)}/s)` : undefined;
      case 'stalled': return `${id} stalled in ${ev.phase} for ${secondsUs(ev.idle)} s`;
    }
  }

  private render(row: Row): string[] {
    const lines = [`${row.id}  ${row.title}${row.outcome ? `  [${row.outcome}]` : ''}`];
    if (row.phase !== undefined) {
      const elapsed = row.phaseStart !== undefined ? this.now - row.phaseStart : 0n;
      let line = `  ▶ ${row.phase.padEnd(15)} ${secondsUs(elapsed < 0n ? 0n : elapsed)} s`;
      if (row.phase === 'transfer' && row.bytes !== undefined) {
        line += `  ${this.bar(row)} ${human(row.bytes)} ${human(row.rate ?? 0)}/s pass ${row.pass ?? 1}`;
        if (row.verdict === 'will-not-converge') line += '  ! will not converge';
      }
      lines.push(line);
    }
    const done = row.done.map((d) => `${d.phase} ${secondsUs(d.duration)}${d.uncertain ? '?' : ''}`).join('  ');
    if (done) lines.push(`    ${done}`);
    if (row.downtime !== undefined) lines.push(`    downtime ${secondsUs(row.downtime)} s`);
    return lines;
  }

  /** Pass n ≥ 2 against pass 1 (which sent all of RAM); pass 1's size is not known
   *  until it ends, so its bar is a marker sweeping with the bytes sent. */
  private bar(row: Row): string {
    const inPass = (row.bytes ?? 0) - (row.passStartBytes ?? 0);
    if (row.firstPassBytes !== undefined && row.firstPassBytes > 0) {
      const filled = Math.min(BAR, Math.round((inPass / row.firstPassBytes) * BAR));
      return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
    }
    const at = Math.floor(inPass / (8 << 20)) % BAR;
    return `[${'.'.repeat(at)}>${'.'.repeat(BAR - at - 1)}]`;
  }

  private draw(t: number): void {
    this.lastDraw = t;
    const width = this.out.columns ?? 120;
    const lines = [...this.rows.values()].flatMap((r) => this.render(r)).map((l) => l.slice(0, width));
    let s = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : '';
    for (const l of lines) s += `\r\x1b[2K${l}\n`;
    s += '\x1b[J';
    this.drawnLines = lines.length;
    this.out.write(s);
  }
}
