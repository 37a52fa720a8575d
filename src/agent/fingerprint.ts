import type { Picos } from '../core/time.js';
import { formatDstIp, formatSrcIp } from '../decode/ip.js';
import { IpProto, PacketView } from '../decode/packet-view.js';
import { parsePacket } from '../decode/parse.js';
import type { CapturedPacket } from '../ingest/types.js';

/**
 * One TCP segment as a measurement point saw it: what identifies the segment on every
 * link it crosses (5-tuple, sequence number, payload length and hash — never the
 * timestamp, the TTL or the link headers, which change or differ between MPs) and the
 * MP's own timestamp of it.
 */
export interface SegmentSighting {
  key: string;
  ts: Picos;
  /** Sender and receiver addresses: the direction the segment travelled. */
  src: string;
  dst: string;
}

/**
 * Picks the TCP segments whose sightings an MP reports for clock-offset estimation.
 * The choice depends on the segment only (a hash of its ports and sequence number modulo
 * `sampleEvery`), so
 * every MP picks the same segments without talking to the others: a QEMU stream of a
 * million segments yields about a million / sampleEvery sightings per MP.
 */
export class SegmentFingerprinter {
  private readonly pv = new PacketView();

  constructor(private readonly sampleEvery = 1) {}

  sight(pkt: CapturedPacket): SegmentSighting | null {
    const pv = this.pv;
    if (parsePacket(pkt.data, pkt.linkType, pkt.wireLength, pv) !== null) return null;
    if (pv.ipVersion === 0 || pv.fragment || pv.ipProto !== IpProto.TCP) return null;
    // A segment with payload is named by its sequence number and a hash of the bytes;
    // a pure ACK by its sequence and acknowledgement numbers (duplicate ACKs repeat:
    // the estimator drops a key an MP sees twice).
    const len = pv.payloadWireLength > 0 ? pv.payloadLength : 0;
    // Sample on fields every MP sees alike before paying for the payload hash.
    if (this.sampleEvery > 1 && (Math.imul(pv.seq ^ pv.ack ^ (pv.srcPort << 16) ^ pv.dstPort, 0x9e3779b1) >>> 0) % this.sampleEvery !== 0) return null;
    const hash = len > 0 ? fnv1a(pkt.data, pv.payloadOffset, pv.payloadOffset + len, pv.seq) : pv.ack;
    const src = formatSrcIp(pv);
    const dst = formatDstIp(pv);
    return { key: `${src}:${pv.srcPort}>${dst}:${pv.dstPort}/${pv.seq}/${pv.payloadWireLength}/${pv.tcpFlags}/${hash}`, ts: pkt.ts, src, dst };
  }
}

/** FNV-1a (32 bits) over bytes [from, to), seeded with the sequence number. */
function fnv1a(b: Uint8Array, from: number, to: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = from; i < to; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
