import { PS_PER_MS, type Picos } from '../core/time.js';
import type { EngineContext } from './context.js';
import type { Migration } from './migration.js';

/** How long a QMP-driven migration's close waits for its channels (and a cut summary). */
const DEFER_LIMIT: Picos = 2_000n * PS_PER_MS;

/**
 * Migrations seen from their QEMU stream alone (QEMU driven over QMP, or libvirt's part
 * not captured): which migration a stream belongs to, and the close of a bare one, which
 * waits for what the stream's decoder says after the FIN (the cut summary, multifd
 * channels still closing).
 */
export class BareQemuMigrations {
  /** Bare migrations whose stream closed, until their summary and channels are in. */
  private readonly deferred = new Set<Migration>();

  constructor(private readonly ctx: EngineContext) {}

  /**
   * The migration a new stream from `source` to `destination` belongs to: an open
   * libvirt migration between them still without its stream, or a candidate; else a
   * new bare migration when `mayCreate` (the stream proved it is one) and no libvirt
   * migration from `source` could still claim it.
   */
  ownerFor(source: string, destination: string, mayCreate: boolean): Migration | undefined {
    const m = this.ctx.open.find((x) => x.streamFlow === undefined && x.libvirtFlow !== undefined
      && x.source === source && x.destination === destination)
      ?? this.ctx.candidateFor(source, destination);
    if (m) return m;
    if (!mayCreate || this.libvirtMayOwn(source)) return undefined;
    return this.create(source, destination);
  }

  /**
   * Could a libvirt (or OpenStack) migration from `source` still claim a QEMU stream?
   * Then a stream it did not claim is left alone, as before; a bare migration is only
   * made when no such migration is open (QEMU driven over QMP alone).
   */
  private libvirtMayOwn(source: string): boolean {
    return this.ctx.hasCandidateFrom(source) || this.ctx.open.some((x) => !x.qemuOnly && x.outcome === undefined
      && (x.source === undefined || x.source === source || x.novaSource === source));
  }

  private create(source: string, destination: string): Migration {
    const m = this.ctx.create('kvm');
    m.qemuOnly = true;
    m.recognised = true;
    m.source = source;
    m.destination = destination;
    return m;
  }

  /** The stream closed at `ts`: close once the cut summary (if `awaitingCut`) and the channels' ends are in. */
  defer(m: Migration, ts: Picos, awaitingCut: boolean): void {
    m.closeAt = ts;
    m.awaitingCut = awaitingCut;
    this.deferred.add(m);
    this.settle(m);
  }

  /** A payload-cut stream closed: it waits for the decoder's byte count alone. */
  deferCut(m: Migration, ts: Picos): void {
    m.closeAt = ts;
    this.deferred.add(m);
  }

  /** The byte count of a payload-cut stream came: close it. */
  cutCounted(m: Migration): void {
    if (this.deferred.delete(m)) this.ctx.close(m, m.closeAt!, 'stream payload cut by the capture: QEMU_VM_EOF not visible');
  }

  /** Closes a deferred migration once its cut summary and its channels' ends are in. */
  settle(m: Migration): void {
    if (!this.deferred.has(m) || m.awaitingCut || (m.multifd && !m.multifd.allEnded())) return;
    this.deferred.delete(m);
    this.ctx.close(m, m.closeAt!);
  }

  /**
   * Closes the migrations still waiting (for a cut stream's summary, or their channels'
   * ends) once a message from another flow, or any message DEFER_LIMIT after the close,
   * or the end of input shows that what they wait for is not coming.
   */
  flush(next?: { flowId: number; ts: Picos }): void {
    for (const m of this.deferred) {
      if (next !== undefined && next.ts - m.closeAt! < DEFER_LIMIT
        && (next.flowId === m.streamFlow || m.multifd?.has(next.flowId))) continue;
      this.deferred.delete(m);
      this.ctx.close(m, m.closeAt!);
    }
  }

  get hasDeferred(): boolean {
    return this.deferred.size > 0;
  }
}
