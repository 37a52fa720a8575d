import { PacketAnomaly } from './anomaly-codes.js';
import { be16, be32, type PacketView, type ParseError } from './packet-view.js';

/**
 * IPv4 / IPv6 parsers. They fill addresses (as 32-bit words), the L4 protocol and the
 * L4 bounds. The packet is b[start, end); `wireLength` is its length on the wire
 * measured from `start`, so a snaplen-cut payload is still known by its true length.
 * Allocation per call: none.
 */

/**
 * IPv4. The header checksum is not verified (offloaded checksums are wrong in captures
 * taken on the sending host); options are skipped by IHL. A total length of 0 with a
 * longer frame is a TSO/GSO super-packet captured before segmentation: the frame length
 * is used instead.
 */
export function parseIpv4(b: Uint8Array, off: number, wireLength: number, pv: PacketView, start = 0, capEnd = b.length): ParseError | null {
  if (off + 20 > capEnd) return PacketAnomaly.TRUNCATED_IPV4;
  const vihl = b[off]!;
  if (vihl >> 4 !== 4) return PacketAnomaly.IPV4_VERSION;
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20) return PacketAnomaly.IPV4_HEADER_LENGTH;
  if (off + ihl > capEnd) return PacketAnomaly.TRUNCATED_IPV4_OPTIONS;
  let total = be16(b, off + 2);
  if (total === 0) total = wireLength - (off - start);
  if (total < ihl) return PacketAnomaly.IPV4_TOTAL_LENGTH;
  const fragField = be16(b, off + 6);
  pv.ipVersion = 4;
  pv.fragment = (fragField & 0x3fff) !== 0; // MF flag or a non-zero offset
  pv.ipProto = b[off + 9]!;
  pv.src0 = 0; pv.src1 = 0; pv.src2 = 0; pv.src3 = be32(b, off + 12);
  pv.dst0 = 0; pv.dst1 = 0; pv.dst2 = 0; pv.dst3 = be32(b, off + 16);
  pv.l4Offset = off + ihl;
  const end = off + total;
  pv.l4End = end < capEnd ? end : capEnd;
  pv.l4WireLength = total - ihl;
  return null;
}

/** IPv6 extension headers skipped on the way to the transport header. */
const EXT_HOP_BY_HOP = 0;
const EXT_ROUTING = 43;
const EXT_FRAGMENT = 44;
const EXT_AH = 51;
const EXT_DEST_OPTS = 60;
const EXT_MOBILITY = 135;
const EXT_HIP = 139;
const EXT_SHIM6 = 140;
const MAX_EXT_HEADERS = 16;

/** IPv6 with the common extension headers skipped; a fragment header sets `fragment`. */
export function parseIpv6(b: Uint8Array, off: number, wireLength: number, pv: PacketView, start = 0, bEnd = b.length): ParseError | null {
  if (off + 40 > bEnd) return PacketAnomaly.TRUNCATED_IPV6;
  if (b[off]! >> 4 !== 6) return PacketAnomaly.IPV6_VERSION;
  let payloadLen = be16(b, off + 4);
  if (payloadLen === 0) payloadLen = wireLength - (off - start) - 40; // jumbogram / GSO
  if (payloadLen < 0) return PacketAnomaly.IPV6_PAYLOAD_LENGTH;
  pv.ipVersion = 6;
  pv.fragment = false;
  pv.src0 = be32(b, off + 8); pv.src1 = be32(b, off + 12); pv.src2 = be32(b, off + 16); pv.src3 = be32(b, off + 20);
  pv.dst0 = be32(b, off + 24); pv.dst1 = be32(b, off + 28); pv.dst2 = be32(b, off + 32); pv.dst3 = be32(b, off + 36);
  const end = off + 40 + payloadLen;
  const capEnd = end < bEnd ? end : bEnd;
  let next = b[off + 6]!;
  let p = off + 40;
  for (let i = 0; ; i++) {
    if (i > MAX_EXT_HEADERS) return PacketAnomaly.IPV6_EXTENSION_DEPTH;
    if (next === EXT_HOP_BY_HOP || next === EXT_ROUTING || next === EXT_DEST_OPTS
      || next === EXT_MOBILITY || next === EXT_HIP || next === EXT_SHIM6) {
      if (p + 8 > capEnd) return PacketAnomaly.TRUNCATED_IPV6_EXTENSION;
      next = b[p]!;
      p += (b[p + 1]! + 1) * 8;
    } else if (next === EXT_AH) {
      if (p + 8 > capEnd) return PacketAnomaly.TRUNCATED_IPV6_AH;
      next = b[p]!;
      p += (b[p + 1]! + 2) * 4;
    } else if (next === EXT_FRAGMENT) {
      if (p + 8 > capEnd) return PacketAnomaly.TRUNCATED_IPV6_FRAGMENT;
      const fo = be16(b, p + 2);
      if ((fo & 0xfff9) !== 0) pv.fragment = true; // offset != 0 or M flag: a real fragment
      next = b[p]!;
      p += 8;
    } else break;
  }
  if (p > end) return PacketAnomaly.IPV6_EXTENSION_OVERRUN;
  pv.ipProto = next;
  pv.l4Offset = p;
  pv.l4End = capEnd;
  pv.l4WireLength = end - p;
  return null;
}

/** Dotted quad. Allocates the string: call once per flow / message, not per packet. */
export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** RFC 5952 text form (lower case, longest run of ≥ 2 zero groups as "::"). */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function formatSrcIp(pv: PacketView): string {
  return pv.ipVersion === 6 ? formatIpv6(pv.src0, pv.src1, pv.src2, pv.src3) : formatIpv4(pv.src3);
}
export function formatDstIp(pv: PacketView): string {
  return pv.ipVersion === 6 ? formatIpv6(pv.dst0, pv.dst1, pv.dst2, pv.dst3) : formatIpv4(pv.dst3);
}
