import { CaptureError } from '../../core/errors.js';
import { loadNative, toTypedError } from './native.js';

/**
 * AF_PACKET TPACKET_V3 receive rings, one per decode worker, joined to one PACKET_FANOUT
 * group (native/packet_ring.cc). The kernel writes each packet into a socket's mapped
 * ring; the worker reads it there in place, through an ArrayBuffer over the mapping, and
 * hands each block back once decoded. No thread copies a packet.
 */

export interface PacketRingOptions {
  iface: string;
  /** Sockets in the fanout group (one per decode worker). */
  count: number;
  /** Workers sharing one socket's ring, each walking every block (count must be 1). */
  readers?: number;
  netns?: string;
  /** libpcap filter syntax, compiled once and attached to every socket. */
  filter?: string;
  promisc?: boolean;
  /** Join all multicast groups (DPMI measurement frames without promiscuous mode). */
  allMulticast?: boolean;
  /** Bytes per block (a power of two, whole pages) and blocks per ring. */
  blockSize?: number;
  blockCount?: number;
  /** The kernel hands a block over at most this long after it opened (ms). */
  retireMs?: number;
  snaplen?: number;
  /** Check the interface, its link type, the filter and CAP_NET_RAW; open nothing. */
  checkOnly?: boolean;
}

export interface PacketRingGroup {
  /** One ring id per socket; a worker opens its PacketRingReader with one. */
  ids: number[];
  linkType: number;
  /** The kernel's fanout group id. */
  fanout: number;
}

export interface PacketRingSocketStats {
  /** PACKET_STATISTICS, cumulative: packets the socket got (drops included), and drops (ring full). */
  received: number;
  drops: number;
  /** Times the kernel found the ring full (all blocks still with the reader). */
  freezes: number;
}

/** AF_PACKET rings cannot be used here (no such socket family, no right, not an Ethernet device). */
export class PacketRingUnavailable extends CaptureError {}

/**
 * 128 KiB blocks (a 64 KiB GRO packet fits whole), 512 of them (64 MiB per socket),
 * handed over at most 1 ms after they opened: at low rates that is the floor of event
 * latency, and a block then holds a millisecond of packets, so the ring holds ≥ 512 ms
 * of them whatever the rate (a reader stalled longer loses packets, counted as kernel
 * drops; with 256 blocks a loaded 2-core host lost one packet at 25 k pps).
 */
export const PACKET_RING_DEFAULTS = { blockSize: 1 << 17, blockCount: 512, retireMs: 1 } as const;

/** Opens the group (synchronously: bad names and filters throw typed errors here). */
export function openPacketRings(opts: PacketRingOptions): PacketRingGroup {
  const addon = loadNative();
  try {
    return addon.openPacketRings({ ...PACKET_RING_DEFAULTS, ...opts });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message : String(e);
    if (code === 'UNSUPPORTED' || code === 'PERMISSION') throw new PacketRingUnavailable(msg, { cause: e });
    throw toTypedError(e, { kind: 'iface', name: opts.iface, ...(opts.netns !== undefined ? { netns: opts.netns } : {}) });
  }
}

export function packetRingStats(id: number): PacketRingSocketStats {
  return loadNative().packetRingStats(id);
}
/**
 * Lets packets in (the filter is attached). A group receives nothing before: every
 * socket must have joined (or a flow could start on a socket outside the split) and
 * every worker be ready to read (a ring with 1 ms blocks holds little at low rates).
 */
export function armPacketRing(id: number): void {
  try {
    loadNative().packetRingArm(id);
  } catch (e) {
    throw new CaptureError(`cannot start the AF_PACKET capture: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
/** The reading worker's wait returns STOPPED from now on; it drains what the kernel still hands over. */
export function stopPacketRing(id: number): void {
  loadNative().packetRingStop(id);
}
/**
 * Reader `reader`'s frontier (see packetRingFrontier in native/packet_ring.h), read from
 * any thread: the main thread's merge promises for an idle worker without waking it.
 */
export function packetRingFrontier(id: number, baseSec: number, reader = 0): number {
  return loadNative().packetRingFrontier(id, reader, baseSec);
}
/** Wakes a reading worker (the merge needs its watermark). */
export function wakePacketRing(id: number, reader = 0): void {
  loadNative().packetRingWake(id, reader);
}
/** Drops the opener's reference: the socket closes once the worker's view is collected too. */
export function closePacketRing(id: number): void {
  loadNative().packetRingClose(id);
}

export const enum RingWait { Timeout = 0, Ready = 1, Woken = 2, Stopped = 3 }

/** A packet in place: bytes u8[off, off + len), wire length, kernel time stamp (s, ns). */
export type RingPacketSink = (u8: Uint8Array, off: number, len: number, wireLength: number, sec: number, nsec: number) => void;

// tpacket_block_desc / tpacket_hdr_v1 and tpacket3_hdr field offsets (linux/if_packet.h).
const BLK_NUM_PKTS = 12;
const BLK_FIRST = 16;
const PKT_NEXT = 0;
const PKT_SEC = 4;
const PKT_NSEC = 8;
const PKT_SNAPLEN = 12;
const PKT_LEN = 16;
const PKT_STATUS = 20;
const PKT_MAC = 24;
/**
 * The receiving stack took an 802.1Q tag out of the frame (tp_vlan_tci holds it): the
 * frame is read as it is, untagged; nothing of the analysis needs the tag.
 */
const TP_STATUS_VLAN_VALID = 1 << 4;
/** sockaddr_ll follows the header at TPACKET_ALIGN(sizeof tpacket3_hdr); sll_pkttype is its byte 10. */
const PKT_SLL_PKTTYPE = 48 + 10;
const PACKET_OUTGOING = 4;
/** The smallest packet slot: header + sockaddr_ll. */
const PKT_MIN = 48 + 20;

/** The worker's side of one ring: blocks handed over by the kernel, read in place. */
export class PacketRingReader {
  readonly u8: Uint8Array;
  readonly linkType: number;
  readonly blockSize: number;
  private readonly dv: DataView;
  private readonly loopback: boolean;
  private readonly native = loadNative();
  /** Malformed block or packet headers (never expected from the kernel; counted, not trusted). */
  malformed = 0;
  /** Frames whose VLAN tag the kernel had taken out (TP_STATUS_VLAN_VALID). */
  vlanStripped = 0;

  constructor(readonly id: number, readonly reader = 0) {
    const v = this.native.packetRingView(id);
    this.u8 = new Uint8Array(v.buffer);
    this.dv = new DataView(v.buffer);
    this.linkType = v.linkType;
    this.blockSize = v.blockSize;
    this.loopback = v.loopback;
  }

  /** The byte offset of the next block the kernel handed over, or -1. */
  next(): number {
    return this.native.packetRingNext(this.id, this.reader);
  }

  /** Hands the current block back to the kernel (after every packet in it was decoded). */
  release(): void {
    this.native.packetRingRelease(this.id, this.reader);
  }

  /** Waits up to `us` µs for a block, a wake-up or a stop (blocks this thread only). */
  wait(us: number): RingWait {
    return this.native.packetRingWait(this.id, this.reader, us) as RingWait;
  }

  /** See packetRingFrontier in native/packet_ring.h. */
  frontier(baseSec: number): number {
    return this.native.packetRingFrontier(this.id, this.reader, baseSec);
  }

  /** Calls `sink` for each packet of the block at `block`, in place; returns the packets. */
  walk(block: number, sink: RingPacketSink): number {
    const dv = this.dv;
    const end = block + this.blockSize;
    const n = dv.getUint32(block + BLK_NUM_PKTS, true);
    let off = block + dv.getUint32(block + BLK_FIRST, true);
    let seen = 0;
    for (let i = 0; i < n; i++) {
      if (off < block || off + PKT_MIN > end) { this.malformed++; break; }
      const caplen = dv.getUint32(off + PKT_SNAPLEN, true);
      const data = off + dv.getUint16(off + PKT_MAC, true);
      if (data + caplen > end) { this.malformed++; break; }
      // Loopback shows every packet twice (out and in): keep the incoming copy, as libpcap.
      if (!this.loopback || this.u8[off + PKT_SLL_PKTTYPE] !== PACKET_OUTGOING) {
        seen++;
        if ((dv.getUint32(off + PKT_STATUS, true) & TP_STATUS_VLAN_VALID) !== 0) this.vlanStripped++;
        sink(this.u8, data, caplen, dv.getUint32(off + PKT_LEN, true), dv.getUint32(off + PKT_SEC, true), dv.getUint32(off + PKT_NSEC, true));
      }
      const next = dv.getUint32(off + PKT_NEXT, true);
      if (next === 0) break;
      off += next;
    }
    return seen;
  }
}
