import type { AnomalyDef } from '../core/anomaly.js';
import { PacketAnomaly } from './anomaly-codes.js';
import type { Picos } from '../core/time.js';
import type { Endpoint } from './types.js';
import type { MessageBase } from '../core/message.js';

/** RARP request or gratuitous ARP: a resumed VM announcing its MAC. */
export interface ArpAnnouncement extends MessageBase {
  protocol: 'arp';
  kind: 'rarp' | 'gratuitous-arp';
  mac: string;
}

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_RARP = 0x8035;
export const ArpOp = { Request: 1, Reply: 2, RarpRequest: 3, RarpReply: 4 } as const;

/** ARP for other than Ethernet/IPv4: well formed, not ours (counted as another packet). */
export const ARP_NOT_ETHER_IPV4 = 'not-ether-ipv4';

/** "52:54:00:12:34:56". */
export function formatMac(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const x = b[off + i]!;
    s += (i > 0 ? ':' : '') + (x < 16 ? '0' : '') + x.toString(16);
  }
  return s;
}

function ipv4At(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * Decode ARP/RARP at `b[off … end)` (etherType 0x0806 or 0x8035) into an announcement of
 * a (resumed) VM's MAC: a RARP request (op 3, what QEMU sends after migration; the MAC
 * being announced is the target hardware address) or a gratuitous ARP (sender IP ==
 * target IP, request or reply; the MAC is the sender's). Returns null for ordinary ARP
 * traffic, ARP_NOT_ETHER_IPV4 for ARP of other hardware/protocol types, or
 * PacketAnomaly.TRUNCATED_ARP. Allocation: the returned message only.
 */
export function decodeArp(
  b: Uint8Array, off: number, end: number, etherType: number, ts: Picos,
): ArpAnnouncement | null | AnomalyDef | typeof ARP_NOT_ETHER_IPV4 {
  if (off + 8 > end) return PacketAnomaly.TRUNCATED_ARP;
  const htype = (b[off]! << 8) | b[off + 1]!;
  const ptype = (b[off + 2]! << 8) | b[off + 3]!;
  if (htype !== 1 || ptype !== 0x0800 || b[off + 4] !== 6 || b[off + 5] !== 4) return ARP_NOT_ETHER_IPV4;
  if (off + 28 > end) return PacketAnomaly.TRUNCATED_ARP;
  const op = (b[off + 6]! << 8) | b[off + 7]!;
  const sha = off + 8, spa = off + 14, tha = off + 18, tpa = off + 24;
  let kind: ArpAnnouncement['kind'];
  let macAt: number;
  if (etherType === ETHERTYPE_RARP && op === ArpOp.RarpRequest) {
    kind = 'rarp';
    macAt = tha;
  } else if (etherType === ETHERTYPE_ARP && (op === ArpOp.Request || op === ArpOp.Reply)
    && b[spa] === b[tpa] && b[spa + 1] === b[tpa + 1] && b[spa + 2] === b[tpa + 2] && b[spa + 3] === b[tpa + 3]
    && (b[spa]! | b[spa + 1]! | b[spa + 2]! | b[spa + 3]!) !== 0) {
    kind = 'gratuitous-arp';
    macAt = sha;
  } else return null;
  const src: Endpoint = { ip: ipv4At(b, spa), port: 0 };
  const dst: Endpoint = { ip: ipv4At(b, tpa), port: 0 };
  return { protocol: 'arp', kind, mac: formatMac(b, macAt), ts, tsEnd: ts, flowId: -1, src, dst };
}
