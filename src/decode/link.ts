import { PacketAnomaly } from './anomaly-codes.js';
import { LinkType } from '../ingest/types.js';
import { be16, EtherType, type PacketView, type ParseError } from './packet-view.js';

/**
 * Link-layer parsers: each fills `pv.etherType` and `pv.l3Offset` and returns null, or a
 * constant reason string when the bytes cannot be a header of that kind.
 * Allocation per call: none.
 */

/** More tags than this is garbage, not a network (QinQ uses 2). */
const MAX_VLAN_DEPTH = 8;

/** LINKTYPE_IPV4 / LINKTYPE_IPV6 / LINKTYPE_LOOP: raw-IP variants some tools write. */
const LINKTYPE_LOOP = 108;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;

/** Strip stacked 802.1Q / 802.1ad tags starting with the tag whose TPID was `type`. */
function stripVlans(b: Uint8Array, off: number, type: number, pv: PacketView, end: number): ParseError | null {
  let depth = 0;
  while (type === EtherType.VLAN || type === EtherType.QinQ || type === EtherType.QinQOld) {
    if (++depth > MAX_VLAN_DEPTH) return PacketAnomaly.VLAN_DEPTH;
    if (off + 4 > end) return PacketAnomaly.TRUNCATED_VLAN;
    pv.vlanId = be16(b, off) & 0x0fff;
    type = be16(b, off + 2);
    off += 4;
  }
  pv.vlanDepth = depth;
  pv.etherType = type;
  pv.l3Offset = off;
  return null;
}

/** Ethernet II (with 802.1Q/QinQ tags). 802.3 length-framed (LLC) frames yield etherType 0. */
export function parseEthernet(b: Uint8Array, off: number, pv: PacketView, end = b.length): ParseError | null {
  if (off + 14 > end) return PacketAnomaly.TRUNCATED_ETHERNET;
  const type = be16(b, off + 12);
  if (type < 0x0600) {
    // 802.3 length field: LLC/SNAP (STP, CDP…), never IP in our captures.
    pv.etherType = 0;
    pv.l3Offset = off + 14;
    return null;
  }
  return stripVlans(b, off + 14, type, pv, end);
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL): 16-byte header, protocol at offset 14. */
export function parseSll(b: Uint8Array, off: number, pv: PacketView, end = b.length): ParseError | null {
  if (off + 16 > end) return PacketAnomaly.TRUNCATED_SLL;
  return stripVlans(b, off + 16, be16(b, off + 14), pv, end);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): 20-byte header, protocol at offset 0. */
export function parseSll2(b: Uint8Array, off: number, pv: PacketView, end = b.length): ParseError | null {
  if (off + 20 > end) return PacketAnomaly.TRUNCATED_SLL2;
  return stripVlans(b, off + 20, be16(b, off), pv, end);
}

/** Raw IP: the version nibble tells IPv4 from IPv6. */
export function parseRawIp(b: Uint8Array, off: number, pv: PacketView, end = b.length): ParseError | null {
  if (off >= end) return PacketAnomaly.EMPTY_RAW_IP;
  const version = b[off]! >> 4;
  if (version === 4) pv.etherType = EtherType.IPv4;
  else if (version === 6) pv.etherType = EtherType.IPv6;
  else return PacketAnomaly.RAW_IP_VERSION;
  pv.l3Offset = off;
  return null;
}

/**
 * BSD loopback (LINKTYPE_NULL): a 4-byte address family in the *capturing host's* byte
 * order, so both orders are tried. IPv6's family differs per BSD (24, 28, 30).
 */
export function parseNull(b: Uint8Array, off: number, pv: PacketView, networkOrder = false, end = b.length): ParseError | null {
  if (off + 4 > end) return PacketAnomaly.TRUNCATED_LOOPBACK;
  const le = (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
  const be = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
  const family = networkOrder ? be : le < 0x10000 ? le : be;
  if (family === 2) pv.etherType = EtherType.IPv4;
  else if (family === 24 || family === 28 || family === 30 || family === 10) pv.etherType = EtherType.IPv6;
  else pv.etherType = 0;
  pv.l3Offset = off + 4;
  return null;
}

/**
 * Dispatch on the capture's link type, for the packet at b[start, end) (a capture
 * file's mapping or a ring holds many). Unknown link types are a parse error.
 */
export function parseLink(b: Uint8Array, linkType: number, pv: PacketView, start = 0, end = b.length): ParseError | null {
  switch (linkType) {
    case LinkType.Ethernet: return parseEthernet(b, start, pv, end);
    case LinkType.LinuxSll: return parseSll(b, start, pv, end);
    case LinkType.LinuxSll2: return parseSll2(b, start, pv, end);
    case LinkType.Raw:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: return parseRawIp(b, start, pv, end);
    case LinkType.Null: return parseNull(b, start, pv, false, end);
    case LINKTYPE_LOOP: return parseNull(b, start, pv, true, end);
    default: return PacketAnomaly.UNSUPPORTED_LINK_TYPE;
  }
}
