import type { CapturedPacket } from '../../ingest/types.js';
import type { Emit } from '../../protocols/types.js';
import type { Picos } from '../../core/time.js';
import { Dissector } from '../../dissect/dissector.js';
import type { DissectorLimits } from '../../dissect/memory-budget.js';
import type { WorkerDecoder } from './protocol.js';

/** What a decode worker runs per packet: the dissector, or a counting stand-in. */
export interface PacketDecoder {
  packet(pkt: CapturedPacket): void;
  /** The packet b[start, end) in place, its time seconds + picoseconds (see Dissector.recordAt: no BigInt per packet). */
  recordAt(b: Uint8Array, start: number, end: number, wireLength: number, linkType: number, sec: number, psec: number): void;
  /** Housekeeping at wire time sec + psec (flow expiry, anomaly windows) without a packet of ours. */
  passedAt(sec: number, psec: number): void;
  /** End of capture at wire time `ts` (the capture's last packet): flush open flows. */
  finish(ts: Picos): void;
}

/** Creates the worker's decoder: the Dissector (src/dissect) with the registered analyzers. */
export function createPacketDecoder(kind: WorkerDecoder, emit: Emit, limits: DissectorLimits): PacketDecoder {
  if (kind === 'count') return { packet: () => undefined, recordAt: () => undefined, passedAt: () => undefined, finish: () => undefined };
  const d = new Dissector(emit, limits);
  return {
    packet: (pkt) => d.packet(pkt),
    recordAt: (b, start, end, wireLength, linkType, sec, psec) => d.recordAt(b, start, end, wireLength, linkType, sec, psec),
    passedAt: (sec, psec) => d.passedAt(sec, psec),
    finish: (ts) => d.finish(ts === 0n ? undefined : ts),
  };
}
