import type { SegmentSighting } from './fingerprint.js';
import type { MpRecord } from './records.js';

/**
 * What every kind of measurement point shares: its records numbered 1, 2, 3 … (or on
 * from `firstSeq`) and sightings gathered into `seg` records of `perRecord`.
 */
export class MpRecordWriter {
  private seq: number;
  private sightings: SegmentSighting[] = [];

  constructor(readonly mp: string, private readonly out: (r: MpRecord) => void, firstSeq = 0, private readonly perRecord = 256) {
    this.seq = firstSeq;
  }

  /** The last sequence number handed out. */
  get lastSeq(): number {
    return this.seq;
  }

  sight(s: SegmentSighting): void {
    this.sightings.push(s);
    if (this.sightings.length >= this.perRecord) this.flushSightings();
  }

  flushSightings(): void {
    if (this.sightings.length === 0) return;
    const sightings = this.sightings;
    this.sightings = [];
    this.emit({ t: 'seg', mp: this.mp, seq: 0, sightings });
  }

  emit(r: MpRecord): void {
    r.seq = ++this.seq;
    this.out(r);
  }
}
