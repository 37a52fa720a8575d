/**
 * ARP / RARP announcements: a datagram protocol, called directly by the Dissector for
 * EtherType 0x0806 / 0x8035 — not a stream analyzer, so not in the registry. A resumed
 * VM's RARP (QEMU's self-announce) or gratuitous ARP marks the end of downtime.
 */
export { ARP_NOT_ETHER_IPV4, ARP_TRUNCATED, ArpOp, decodeArp, ETHERTYPE_ARP, ETHERTYPE_RARP, formatMac } from './decode.js';
