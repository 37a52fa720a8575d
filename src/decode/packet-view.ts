import type { AnomalyDef } from '../core/anomaly.js';
/**
 * The parsed headers of one packet, as plain numeric fields in one reusable object.
 *
 * Per-packet cost: the Dissector owns one PacketView and overwrites it for every packet,
 * so parsing allocates nothing — no DataView, no header objects, no address strings.
 * Multi-byte fields are read with byte indexing (`b[i] << 8 | b[i + 1]`), which V8 turns
 * into plain loads; a DataView would cost an allocation per packet when the packet
 * arrives as a fresh Uint8Array view (as it does from every reader).
 */
export class PacketView {
  /** Offset of the L3 header in the captured bytes. */
  l3Offset = 0;
  /** EtherType of the L3 payload after link headers and VLAN tags (0x0800, 0x86dd, 0x0806, …). */
  etherType = 0;
  /** Number of 802.1Q / 802.1ad tags stripped (QinQ = 2). */
  vlanDepth = 0;
  /** Innermost VLAN id when vlanDepth > 0. */
  vlanId = 0;

  /** 4 or 6 when an IP header was parsed, else 0. */
  ipVersion = 0;
  /** Addresses as 32-bit words: IPv4 uses only src3/dst3 (others are 0). */
  src0 = 0; src1 = 0; src2 = 0; src3 = 0;
  dst0 = 0; dst1 = 0; dst2 = 0; dst3 = 0;
  /** L4 protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6) after IPv6 extension headers. */
  ipProto = 0;
  /** True for any IP fragment that is not an atomic (offset 0, no more-fragments) one. */
  fragment = false;
  /** Offset of the L4 header. */
  l4Offset = 0;
  /** End of the IP payload within the captured bytes (Ethernet padding excluded). */
  l4End = 0;
  /** Length of the IP payload on the wire (may exceed l4End - l4Offset when snaplen cut it). */
  l4WireLength = 0;

  srcPort = 0;
  dstPort = 0;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  tcpFlags = 0;
  /** Sequence and acknowledgement numbers as unsigned 32-bit values. */
  seq = 0;
  ack = 0;
  /** Transport payload: offset and captured length within the packet, and its length on the wire. */
  payloadOffset = 0;
  payloadLength = 0;
  payloadWireLength = 0;

  reset(): void {
    this.l3Offset = 0; this.etherType = 0; this.vlanDepth = 0; this.vlanId = 0;
    this.ipVersion = 0; this.ipProto = 0; this.fragment = false;
    this.src0 = 0; this.src1 = 0; this.src2 = 0; this.src3 = 0;
    this.dst0 = 0; this.dst1 = 0; this.dst2 = 0; this.dst3 = 0;
    this.l4Offset = 0; this.l4End = 0; this.l4WireLength = 0;
    this.srcPort = 0; this.dstPort = 0; this.tcpFlags = 0; this.seq = 0; this.ack = 0;
    this.payloadOffset = 0; this.payloadLength = 0; this.payloadWireLength = 0;
  }
}

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export const EtherType = {
  IPv4: 0x0800,
  IPv6: 0x86dd,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN: 0x8100,
  QinQ: 0x88a8,
  /** Pre-standard QinQ tag still sent by some switches. */
  QinQOld: 0x9100,
} as const;

export const IpProto = { ICMP: 1, TCP: 6, UDP: 17, ICMPv6: 58 } as const;

/**
 * Why a parse stopped. A parser returns `null` on success, or one of the constant
 * codes of ./anomaly-codes.ts (no allocation); the Dissector turns it into an Anomaly.
 */
export type ParseError = AnomalyDef;

/** Read helpers: big-endian from a byte array, no bounds check (callers check lengths). */
export function be16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
export function be32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}
