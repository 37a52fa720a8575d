import { anomalyDef } from '../core/anomaly.js';

/**
 * Packet decoding anomaly codes (stable: docs/anomalies.md): a header the L2–L4
 * parsers could not read, or an ARP/ICMP packet too short for its type. Constants, so
 * that a parser returns one without allocating.
 */
export const PacketAnomaly = {
  VLAN_DEPTH: anomalyDef('PACKET_VLAN_DEPTH', 'malformed-packet', 'more stacked VLAN tags than the limit'),
  TRUNCATED_VLAN: anomalyDef('PACKET_TRUNCATED_VLAN', 'malformed-packet', 'truncated VLAN tag'),
  TRUNCATED_ETHERNET: anomalyDef('PACKET_TRUNCATED_ETHERNET', 'malformed-packet', 'truncated Ethernet header'),
  TRUNCATED_SLL: anomalyDef('PACKET_TRUNCATED_SLL', 'malformed-packet', 'truncated Linux cooked (SLL) header'),
  TRUNCATED_SLL2: anomalyDef('PACKET_TRUNCATED_SLL2', 'malformed-packet', 'truncated Linux cooked v2 (SLL2) header'),
  EMPTY_RAW_IP: anomalyDef('PACKET_EMPTY_RAW_IP', 'malformed-packet', 'empty raw IP packet'),
  RAW_IP_VERSION: anomalyDef('PACKET_RAW_IP_VERSION', 'malformed-packet', 'raw IP packet with a version other than 4 or 6'),
  TRUNCATED_LOOPBACK: anomalyDef('PACKET_TRUNCATED_LOOPBACK', 'malformed-packet', 'truncated loopback (NULL) header'),
  UNSUPPORTED_LINK_TYPE: anomalyDef('PACKET_UNSUPPORTED_LINK_TYPE', 'malformed-packet', 'unsupported link type'),
  TRUNCATED_IPV4: anomalyDef('PACKET_TRUNCATED_IPV4', 'malformed-packet', 'truncated IPv4 header'),
  IPV4_VERSION: anomalyDef('PACKET_IPV4_VERSION', 'malformed-packet', 'IPv4 header with a version other than 4'),
  IPV4_HEADER_LENGTH: anomalyDef('PACKET_IPV4_HEADER_LENGTH', 'malformed-packet', 'IPv4 header length below 20'),
  TRUNCATED_IPV4_OPTIONS: anomalyDef('PACKET_TRUNCATED_IPV4_OPTIONS', 'malformed-packet', 'truncated IPv4 options'),
  IPV4_TOTAL_LENGTH: anomalyDef('PACKET_IPV4_TOTAL_LENGTH', 'malformed-packet', 'IPv4 total length below the header length'),
  TRUNCATED_IPV6: anomalyDef('PACKET_TRUNCATED_IPV6', 'malformed-packet', 'truncated IPv6 header'),
  IPV6_VERSION: anomalyDef('PACKET_IPV6_VERSION', 'malformed-packet', 'IPv6 header with a version other than 6'),
  IPV6_PAYLOAD_LENGTH: anomalyDef('PACKET_IPV6_PAYLOAD_LENGTH', 'malformed-packet', 'IPv6 payload length 0 (jumbogram) in a packet shorter than its header'),
  IPV6_EXTENSION_DEPTH: anomalyDef('PACKET_IPV6_EXTENSION_DEPTH', 'malformed-packet', 'more IPv6 extension headers than the limit'),
  TRUNCATED_IPV6_EXTENSION: anomalyDef('PACKET_TRUNCATED_IPV6_EXTENSION', 'malformed-packet', 'truncated IPv6 extension header'),
  TRUNCATED_IPV6_AH: anomalyDef('PACKET_TRUNCATED_IPV6_AH', 'malformed-packet', 'truncated IPv6 authentication header'),
  TRUNCATED_IPV6_FRAGMENT: anomalyDef('PACKET_TRUNCATED_IPV6_FRAGMENT', 'malformed-packet', 'truncated IPv6 fragment header'),
  IPV6_EXTENSION_OVERRUN: anomalyDef('PACKET_IPV6_EXTENSION_OVERRUN', 'malformed-packet', 'IPv6 extension headers exceed the payload length'),
  TRUNCATED_TCP: anomalyDef('PACKET_TRUNCATED_TCP', 'malformed-packet', 'truncated TCP header'),
  TCP_DATA_OFFSET: anomalyDef('PACKET_TCP_DATA_OFFSET', 'malformed-packet', 'TCP data offset below 20'),
  TCP_HEADER_OVERRUN: anomalyDef('PACKET_TCP_HEADER_OVERRUN', 'malformed-packet', 'TCP header longer than the IP payload'),
  TRUNCATED_TCP_OPTIONS: anomalyDef('PACKET_TRUNCATED_TCP_OPTIONS', 'malformed-packet', 'truncated TCP options'),
  TRUNCATED_UDP: anomalyDef('PACKET_TRUNCATED_UDP', 'malformed-packet', 'truncated UDP header'),
  UDP_LENGTH: anomalyDef('PACKET_UDP_LENGTH', 'malformed-packet', 'UDP length below 8'),
  TRUNCATED_ARP: anomalyDef('PACKET_TRUNCATED_ARP', 'malformed-packet', 'truncated ARP packet'),
  TRUNCATED_ICMP_ECHO: anomalyDef('PACKET_TRUNCATED_ICMP_ECHO', 'malformed-packet', 'truncated ICMP echo header'),
} as const;
