import type { AnomalyDef } from '../core/anomaly.js';
import type { PacketClock, Picos } from '../core/time.js';
import type { Endpoint } from '../core/message.js';
import { ARP_NOT_ETHER_IPV4, decodeArp } from '../decode/arp.js';
import { decodeIcmpEcho } from '../decode/icmp.js';
import { formatDstIp, formatIpv4, formatSrcIp } from '../decode/ip.js';
import type { PacketView } from '../decode/packet-view.js';
import type { Emit, ProtocolMessage } from '../protocols/types.js';
import type { DissectorStats } from './stats.js';

/** IPv4 hosts whose echo endpoint is kept (see hostEndpoint). */
const HOST_ENDPOINTS = 4096;

/**
 * The Dissector's datagram side: ICMP echo and ARP/RARP packets, each one message on its
 * own (no flow, no reassembly). A ping per VM makes echoes a third of a migration
 * capture's packets, so an echo costs its message and nothing else: no endpoint string
 * (one object per host, shared), and no bigint for ICMP messages that are not echoes.
 */
export class DatagramDecoders {
  private readonly hostEndpoints = new Map<number, Endpoint>();

  constructor(
    private readonly emit: Emit,
    private readonly stats: DissectorStats,
    /** A malformed datagram: counted by the Dissector as its own anomaly. */
    private readonly malformed: (def: AnomalyDef, ts: Picos) => void,
  ) {}

  /** The ICMP or ICMPv6 packet in `pv` (headers parsed) at the clock's time. */
  icmp(b: Uint8Array, pv: PacketView, clock: PacketClock): void {
    const t = b[pv.l4Offset];
    const v6 = pv.ipVersion === 6;
    if (t !== (v6 ? 128 : 8) && t !== (v6 ? 129 : 0)) { this.stats.icmpPackets++; return; }
    const res = decodeIcmpEcho(b, pv.l4Offset, pv.l4End, v6, clock.ts,
      v6 ? { ip: formatSrcIp(pv), port: 0 } : this.hostEndpoint(pv.src3),
      v6 ? { ip: formatDstIp(pv), port: 0 } : this.hostEndpoint(pv.dst3));
    this.result(res, clock.ts, 'icmp');
  }

  /** The ARP or RARP packet in `pv` (link header parsed), ending at `end`. */
  arp(b: Uint8Array, pv: PacketView, end: number, clock: PacketClock): void {
    const ts = clock.ts;
    const res = decodeArp(b, pv.l3Offset, end, pv.etherType, ts);
    if (res === ARP_NOT_ETHER_IPV4) { this.stats.otherPackets++; return; }
    this.result(res, ts, 'arp');
  }

  /**
   * The port-less endpoint of an IPv4 host, shared by every echo message to or from it:
   * pingers send every few ms, and a string and an object per packet were a quarter of
   * the file path's allocation. Bounded: forgotten wholesale past HOST_ENDPOINTS hosts.
   */
  private hostEndpoint(addr: number): Endpoint {
    let e = this.hostEndpoints.get(addr);
    if (e === undefined) {
      if (this.hostEndpoints.size >= HOST_ENDPOINTS) this.hostEndpoints.clear();
      e = { ip: formatIpv4(addr), port: 0 };
      this.hostEndpoints.set(addr, e);
    }
    return e;
  }

  /** A decoder's answer: a message, nothing of interest, or why it was malformed. */
  private result(res: ProtocolMessage | null | AnomalyDef, ts: Picos, kind: 'icmp' | 'arp'): void {
    if (res !== null && 'text' in res) {
      this.stats.malformedPackets++;
      this.malformed(res, ts);
      return;
    }
    if (kind === 'icmp') this.stats.icmpPackets++; else this.stats.arpPackets++;
    if (res !== null) this.emit(res);
  }
}
