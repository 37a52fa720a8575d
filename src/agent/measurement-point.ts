import type { Picos } from '../core/time.js';
import { Dissector } from '../dissect/dissector.js';
import type { DissectorStats } from '../dissect/stats.js';
import type { CapturedPacket } from '../ingest/types.js';
import type { ProtocolMessage } from '../protocols/types.js';
import { SegmentFingerprinter } from './fingerprint.js';
import { MpRecordWriter } from './record-writer.js';
import type { MpRecord } from './records.js';

export interface MeasurementPointOptions {
  /** Sample one TCP segment in N for clock offsets (default 8). */
  sampleEvery?: number;
  /** Sightings per record (default 256). */
  sightingsPerRecord?: number;
  /** Heartbeat every this much wire time (default 10 ms). */
  heartbeatEvery?: Picos;
  /** Sequence number before the first record (an MP continuing a stored sequence). */
  firstSeq?: number;
}

/**
 * One measurement point's local half: packets in, numbered records out (the Dissector's
 * protocol messages, sampled segment sightings and watermark heartbeats). The same code
 * runs in `migscope agent` (records go to NATS) and in `analyze --mp-from-file` (records
 * go straight to the aggregator's merge), so the offline path tests the agent's output.
 */
export class MeasurementPoint {
  private readonly dissector: Dissector;
  private readonly fingerprinter: SegmentFingerprinter;
  private readonly heartbeatEvery: Picos;
  private readonly records: MpRecordWriter;
  private wire: Picos = 0n;
  private nextHeartbeat: Picos = -1n;

  constructor(readonly mp: string, out: (r: MpRecord) => void, opts: MeasurementPointOptions = {}) {
    this.fingerprinter = new SegmentFingerprinter(opts.sampleEvery ?? 8);
    this.heartbeatEvery = opts.heartbeatEvery ?? 10_000_000_000n;
    this.records = new MpRecordWriter(mp, out, opts.firstSeq ?? 0, opts.sightingsPerRecord ?? 256);
    this.dissector = new Dissector((msg: ProtocolMessage) => this.records.emit({ t: 'msg', mp, seq: 0, wire: this.wire, msg }));
  }

  get stats(): DissectorStats {
    return this.dissector.stats;
  }

  /** The last sequence number handed out. */
  get lastSeq(): number {
    return this.records.lastSeq;
  }

  packet(pkt: CapturedPacket): void {
    if (pkt.ts > this.wire) this.wire = pkt.ts;
    const s = this.fingerprinter.sight(pkt);
    if (s !== null) this.records.sight(s);
    this.dissector.packet(pkt);
    if (this.wire >= this.nextHeartbeat) this.heartbeat();
  }

  /** Sightings so far and a heartbeat: everything up to the current wire time is out. */
  heartbeat(): void {
    this.records.flushSightings();
    this.nextHeartbeat = this.wire + this.heartbeatEvery;
    this.records.emit({ t: 'hb', mp: this.mp, seq: 0, watermark: this.wire });
  }

  /** End of the sources: flows ended, the rest flushed, and the end record. */
  finish(): void {
    this.dissector.finish();
    this.records.flushSightings();
    this.records.emit({ t: 'end', mp: this.mp, seq: 0, watermark: this.wire });
  }
}
