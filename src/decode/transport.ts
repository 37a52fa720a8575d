import { PacketAnomaly } from './anomaly-codes.js';
import { be16, be32, type PacketView, type ParseError } from './packet-view.js';

/**
 * TCP / UDP header parsers over `pv.l4Offset … pv.l4End`. They set ports and the payload
 * bounds: `payloadLength` is what was captured, `payloadWireLength` what the sender sent
 * (they differ when a snaplen cut the packet). Allocation per call: none.
 */

/** TCP: options (MSS, window scale, SACK, timestamps) are skipped by the data offset. */
export function parseTcp(b: Uint8Array, pv: PacketView): ParseError | null {
  const off = pv.l4Offset;
  if (off + 20 > pv.l4End) return PacketAnomaly.TRUNCATED_TCP;
  const hlen = (b[off + 12]! >> 4) * 4;
  if (hlen < 20) return PacketAnomaly.TCP_DATA_OFFSET;
  if (hlen > pv.l4WireLength) return PacketAnomaly.TCP_HEADER_OVERRUN;
  if (off + hlen > pv.l4End) return PacketAnomaly.TRUNCATED_TCP_OPTIONS;
  pv.srcPort = be16(b, off);
  pv.dstPort = be16(b, off + 2);
  pv.seq = be32(b, off + 4);
  pv.ack = be32(b, off + 8);
  pv.tcpFlags = b[off + 13]!;
  pv.payloadOffset = off + hlen;
  pv.payloadLength = pv.l4End - pv.payloadOffset;
  pv.payloadWireLength = pv.l4WireLength - hlen;
  return null;
}

export function parseUdp(b: Uint8Array, pv: PacketView): ParseError | null {
  const off = pv.l4Offset;
  if (off + 8 > pv.l4End) return PacketAnomaly.TRUNCATED_UDP;
  const len = be16(b, off + 4);
  if (len !== 0 && len < 8) return PacketAnomaly.UDP_LENGTH;
  pv.srcPort = be16(b, off);
  pv.dstPort = be16(b, off + 2);
  pv.payloadOffset = off + 8;
  // A UDP length of 0 happens with GSO / jumbograms: trust the IP payload length.
  const wire = len === 0 || len > pv.l4WireLength ? pv.l4WireLength - 8 : len - 8;
  pv.payloadWireLength = wire;
  const capturedEnd = pv.payloadOffset + wire;
  pv.payloadLength = (capturedEnd < pv.l4End ? capturedEnd : pv.l4End) - pv.payloadOffset;
  return null;
}
