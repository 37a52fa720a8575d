/** Test-only TCP conversation: builds Ethernet/IPv4/TCP packets for stream offsets of each side. */
import type { CapturedPacket } from '../../../src/ingest/types.js';
import { intsFrom, seededRandom } from '../../helpers/rng.js';
import { ACK, FIN, RST, SYN, ethTcp, pkt } from '../../helpers/packets.js';

export interface ConvOpts { cIsn?: number; sIsn?: number; client?: string; server?: string; cport?: number; sport?: number }

export class Conversation {
  readonly cIsn: number; readonly sIsn: number;
  readonly client: string; readonly server: string; readonly cport: number; readonly sport: number;
  constructor(o: ConvOpts = {}) {
    this.cIsn = o.cIsn ?? 1000; this.sIsn = o.sIsn ?? 5000;
    this.client = o.client ?? '10.0.0.1'; this.server = o.server ?? '10.0.0.2';
    this.cport = o.cport ?? 40000; this.sport = o.sport ?? 16509;
  }
  private seqOf(c2s: boolean, off: number): number { return ((c2s ? this.cIsn : this.sIsn) + 1 + off) >>> 0; }
  private frame(c2s: boolean, seq: number, ack: number, flags: number, payload?: Uint8Array): Uint8Array {
    return c2s
      ? ethTcp(this.client, this.cport, this.server, this.sport, seq, ack, flags, payload)
      : ethTcp(this.server, this.sport, this.client, this.cport, seq, ack, flags, payload);
  }
  syn(ts: bigint): CapturedPacket { return pkt(this.frame(true, this.cIsn, 0, SYN), ts); }
  synAck(ts: bigint): CapturedPacket { return pkt(this.frame(false, this.sIsn, this.seqOf(true, 0), SYN | ACK), ts); }
  handshake(ts: bigint): CapturedPacket[] {
    return [this.syn(ts), this.synAck(ts + 1n), pkt(this.frame(true, this.seqOf(true, 0), this.seqOf(false, 0), ACK), ts + 2n)];
  }
  /** Data at stream offset `off` of one side; `ackOff` = the peer offset acknowledged (default 0). */
  data(c2s: boolean, off: number, bytes: Uint8Array, ts: bigint, ackOff = 0): CapturedPacket {
    return pkt(this.frame(c2s, this.seqOf(c2s, off), this.seqOf(!c2s, ackOff), ACK, bytes), ts);
  }
  /** A pure ACK from one side acknowledging the peer up to `ackOff`. */
  ack(c2s: boolean, ownOff: number, ackOff: number, ts: bigint): CapturedPacket {
    return pkt(this.frame(c2s, this.seqOf(c2s, ownOff), this.seqOf(!c2s, ackOff), ACK), ts);
  }
  fin(c2s: boolean, off: number, ts: bigint, ackOff = 0): CapturedPacket {
    return pkt(this.frame(c2s, this.seqOf(c2s, off), this.seqOf(!c2s, ackOff), FIN | ACK), ts);
  }
  rst(c2s: boolean, off: number, ts: bigint): CapturedPacket {
    return pkt(this.frame(c2s, this.seqOf(c2s, off), 0, RST), ts);
  }
}

/** Split [0, n) into segments of pseudo-random sizes in [1, max]. */
export function splitRanges(n: number, max: number, seed = 7): [number, number][] {
  const out: [number, number][] = [];
  const int = intsFrom(seededRandom(seed));
  for (let o = 0; o < n;) {
    const len = Math.min(n - o, 1 + int(max));
    out.push([o, o + len]);
    o += len;
  }
  return out;
}
