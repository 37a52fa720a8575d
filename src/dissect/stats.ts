import type { AnomalyKind } from '../protocols/types.js';

/** What the Dissector counted. Every packet lands in exactly one of the `packets*` buckets. */
export interface DissectorStats {
  packets: number;
  /** Wire bytes of all packets. */
  bytes: number;
  tcpPackets: number;
  udpPackets: number;
  icmpPackets: number;
  arpPackets: number;
  /** Well-formed packets of an L3/L4 protocol we do not decode (LLC, IGMP, SCTP, …). */
  otherPackets: number;
  /** Packets whose headers could not be parsed (also counted as malformed-packet anomalies). */
  malformedPackets: number;
  /** IP fragments (skipped, also counted as ip-fragment anomalies). */
  fragments: number;
  /** Messages emitted per protocol (libvirt, qemu, http, amqp, icmp, arp, tcp markers, anomaly). */
  decoded: Record<string, number>;
  /** Anomaly totals by kind: packets, segments or bytes as each kind counts them. */
  anomalies: Partial<Record<AnomalyKind, number>>;
  flows: {
    /** Flows ever created (TCP + UDP). */
    created: number;
    /** Flows in the table now. */
    active: number;
    /** Removed after the idle timeout. */
    timedOut: number;
    /** Live flows removed because the table was full (LRU). */
    evicted: number;
    /** Flows whose protocol was identified, by protocol name. */
    byProtocol: Record<string, number>;
  };
  tcp: {
    /** Payload bytes handed to decoders (or skipped for unknown protocols: not counted). */
    deliveredBytes: number;
    /** Bytes declared missing (holes + snaplen cuts). */
    holeBytes: number;
    /** Of holeBytes, payload bytes the capture's snaplen cut off packets it did capture. */
    cutBytes: number;
    /** Segments whose bytes had all been delivered already. */
    retransmissions: number;
  };
}

export function newStats(): DissectorStats {
  return {
    packets: 0, bytes: 0, tcpPackets: 0, udpPackets: 0, icmpPackets: 0, arpPackets: 0,
    otherPackets: 0, malformedPackets: 0, fragments: 0,
    decoded: {}, anomalies: {},
    flows: { created: 0, active: 0, timedOut: 0, evicted: 0, byProtocol: {} },
    tcp: { deliveredBytes: 0, holeBytes: 0, cutBytes: 0, retransmissions: 0 },
  };
}
