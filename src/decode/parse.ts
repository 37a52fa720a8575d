import { parseIpv4, parseIpv6 } from './ip.js';
import { parseLink } from './link.js';
import { EtherType, IpProto, type PacketView, type ParseError } from './packet-view.js';
import { parseTcp, parseUdp } from './transport.js';

/**
 * Parse link, IP and TCP/UDP headers of one captured packet, b[start, end), into `pv`
 * (reset first; offsets in `pv` are indexes into `b`).
 * Returns null when everything present was understood — including packets that are
 * simply not IP (check `pv.etherType`/`pv.ipVersion`), IP fragments (`pv.fragment`, no
 * L4 parsed) and other L4 protocols (`pv.ipProto`) — or the reason a header was bad.
 * Allocation per call: none.
 */
export function parsePacket(b: Uint8Array, linkType: number, wireLength: number, pv: PacketView, start = 0, end = b.length): ParseError | null {
  pv.reset();
  let err = parseLink(b, linkType, pv, start, end);
  if (err !== null) return err;
  const et = pv.etherType;
  if (et === EtherType.IPv4) err = parseIpv4(b, pv.l3Offset, wireLength, pv, start, end);
  else if (et === EtherType.IPv6) err = parseIpv6(b, pv.l3Offset, wireLength, pv, start, end);
  else return null;
  if (err !== null || pv.fragment) return err;
  if (pv.ipProto === IpProto.TCP) return parseTcp(b, pv);
  if (pv.ipProto === IpProto.UDP) return parseUdp(b, pv);
  return null;
}
