/**
 * ICMP echo: a datagram protocol, called directly by the Dissector for IP protocol 1
 * (ICMP) and 58 (ICMPv6) — not a stream analyzer, so not in the registry. The phase
 * engine uses echo request/reply pairs to measure downtime as the study does.
 */
export { decodeIcmpEcho, ICMP_TRUNCATED, IcmpType } from './decode.js';
