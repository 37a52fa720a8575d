import { LinkType, type PacketSink, type RecordSink } from '../types.js';
import { secPsecOf } from '../batch.js';
import {
  CAP_HEADER_SIZE,
  ETH_HEADER_SIZE,
  ETHERTYPE_DPMI,
  NameCache,
  SENDER_FLUSH,
  SENDHEAD_SIZE,
  SEQUENCE_MODULUS,
} from './layout.js';

const ETHERTYPE_VLAN = 0x8100;

export interface DpmiFrameStats {
  /** Measurement frames seen (duplicates included). */
  frames: number;
  /** Capture records unpacked and delivered. */
  records: number;
  /** Frames missing according to sequence-number gaps. */
  lostFrames: number;
  /** Frames seen twice (loopback), ignored. */
  duplicateFrames: number;
  /** Frames whose sendhead or records did not fit (records before the fault are kept). */
  malformedFrames: number;
  /** A jump backwards/too far to be a gap: the stream restarted; counted, tracking restarts. */
  sequenceResets: number;
  /** Frames with SENDER_FLUSH (the MP closed/flushed a stream). */
  flushes: number;
  /** Distinct streams (multicast destination MACs) seen. */
  streams: number;
  /** Bytes of malformed frames that did not become packets. */
  skippedBytes: number;
  /** Records of other measurement points, dropped by the MAMPID filter on purpose. */
  filteredRecords: number;
}

export interface DpmiUnpackerOptions {
  /** Deliver only records of this measurement point (`dpmi-iface:NAME/MAMPID`). */
  mampid?: string;
}

interface StreamState {
  expected: number;
  /** The MP flushed the stream: the next frame may restart it at any number. */
  flushed: boolean;
}

/**
 * Offset of the sendhead (from the frame's start) if the frame data[off, off + len) is an
 * (optionally VLAN-tagged) Ethernet frame of type 0x0810, else -1.
 */
export function dpmiSendheadOffset(data: Uint8Array, linkType: number, off = 0, len = data.length - off): number {
  if (linkType !== LinkType.Ethernet || len < ETH_HEADER_SIZE) return -1;
  let type = (data[off + 12]! << 8) | data[off + 13]!;
  if (type === ETHERTYPE_DPMI) return ETH_HEADER_SIZE;
  if (type === ETHERTYPE_VLAN && len >= ETH_HEADER_SIZE + 4) {
    type = (data[off + 16]! << 8) | data[off + 17]!;
    if (type === ETHERTYPE_DPMI) return ETH_HEADER_SIZE + 4;
  }
  return -1;
}

/**
 * Unpacks DPMI measurement frames into the packets they carry and tracks each
 * stream's sequence numbers (one stream per multicast destination MAC). Other packets
 * pass through untouched. This is the path of both `dpmi-iface:` live capture and
 * pcap files of captured measurement frames.
 *
 * Inner packets' `data` are views into the frame's bytes: same lifetime as the frame.
 */
export class DpmiUnpacker {
  readonly stats: DpmiFrameStats = {
    frames: 0,
    records: 0,
    lostFrames: 0,
    duplicateFrames: 0,
    malformedFrames: 0,
    sequenceResets: 0,
    flushes: 0,
    streams: 0,
    skippedBytes: 0,
    filteredRecords: 0,
  };
  problem: string | undefined;
  /** Pass this to a reader as its RecordSink (the hot path: no object per packet). */
  readonly records: RecordSink = (buf, off, len, wireLength, linkType, iface, sec, psec, nic, mampid) => {
    const at = dpmiSendheadOffset(buf, linkType, off, len);
    if (at < 0) this.next(buf, off, len, wireLength, linkType, iface, sec, psec, nic, mampid);
    else this.unpack(buf, off, len, iface, at);
  };
  /** The same for packets as objects (tests, object readers). */
  readonly sink: PacketSink = (pkt) => {
    const [sec, psec] = secPsecOf(pkt.ts);
    this.records(pkt.data, 0, pkt.data.length, pkt.wireLength, pkt.linkType, pkt.iface, sec, psec, pkt.nic, pkt.mampid);
  };
  private readonly streams = new Map<number, StreamState>();
  private readonly nics = new NameCache();
  private readonly mampids = new NameCache();

  private readonly onlyMampid: string | undefined;

  constructor(
    private readonly next: RecordSink,
    opts: DpmiUnpackerOptions = {},
  ) {
    this.onlyMampid = opts.mampid;
  }

  /** The measurement frame frame[base, base + size), its sendhead at base + at. */
  private unpack(frame: Uint8Array, base: number, size: number, iface: number, at: number): void {
    // Offsets below are frame-relative; `d` views the frame (one view per frame, not per record).
    const d = base === 0 && size === frame.length ? frame : frame.subarray(base, base + size);
    this.stats.frames++;
    if (d.length < at + SENDHEAD_SIZE) return this.bad('measurement frame shorter than its sendhead', d.length);
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const seq = dv.getUint32(at, false);
    const nopkts = dv.getUint32(at + 4, false);
    const flags = dv.getUint32(at + 8, false);
    if (seq >= SEQUENCE_MODULUS) return this.bad(`measurement frame sequence number ${seq} out of range`, d.length);
    if (!this.sequence(d, seq)) return;
    let off = at + SENDHEAD_SIZE;
    for (let i = 0; i < nopkts; i++) {
      if (off + CAP_HEADER_SIZE > d.length) return this.bad(`measurement frame claims ${nopkts} records, holds ${i}`, d.length - off);
      const sec = dv.getUint32(off + 16, true);
      const psec = dv.getUint32(off + 24, true) * 2 ** 32 + dv.getUint32(off + 20, true);
      const len = dv.getUint32(off + 28, true);
      const caplen = dv.getUint32(off + 32, true);
      const end = off + CAP_HEADER_SIZE + caplen;
      if (end > d.length || psec >= 1_000_000_000_000) return this.bad(`measurement frame record ${i} is corrupt`, d.length - off);
      const mampid = this.mampids.decode(d, off + 8);
      if (this.onlyMampid !== undefined && mampid !== this.onlyMampid) {
        this.stats.filteredRecords++;
        off = end;
        continue;
      }
      this.stats.records++;
      this.next(d, off + CAP_HEADER_SIZE, caplen, Math.max(len, caplen), LinkType.Ethernet, iface, sec, psec,
        this.nics.decode(d, off), mampid);
      off = end;
    }
    if ((flags & SENDER_FLUSH) !== 0) {
      this.stats.flushes++;
      const s = this.streams.get(streamKey(d));
      if (s) s.flushed = true;
    }
  }

  /** Sequence accounting; false = duplicate, to be ignored. */
  private sequence(d: Uint8Array, seq: number): boolean {
    const key = streamKey(d);
    const s = this.streams.get(key);
    if (!s) {
      if (!this.seen.has(key)) {
        this.seen.add(key);
        this.stats.streams++;
      }
      this.streams.set(key, { expected: (seq + 1) % SEQUENCE_MODULUS, flushed: false });
      return true;
    }
    if (seq === (s.expected + SEQUENCE_MODULUS - 1) % SEQUENCE_MODULUS) {
      this.stats.duplicateFrames++;
      return false;
    }
    if (seq === s.expected || s.flushed) {
      s.expected = (seq + 1) % SEQUENCE_MODULUS;
      s.flushed = false;
      return true;
    }
    // An MP that never sends 0xFFFF (wraps "at" it) goes 0xFFFE → 0: no loss.
    const gap = (seq - s.expected + SEQUENCE_MODULUS) % SEQUENCE_MODULUS;
    if (!(s.expected === 0xffff && seq === 0)) {
      if (gap < SEQUENCE_MODULUS / 2) this.stats.lostFrames += gap;
      else this.stats.sequenceResets++;
    }
    s.expected = (seq + 1) % SEQUENCE_MODULUS;
    return true;
  }

  private readonly seen = new Set<number>();

  private bad(reason: string, droppedBytes: number): void {
    this.stats.malformedFrames++;
    this.stats.skippedBytes += droppedBytes;
    this.problem ??= reason;
  }
}

/** The stream a frame belongs to: its 48-bit destination MAC as a number. */
function streamKey(d: Uint8Array): number {
  return ((d[0]! << 8) | d[1]!) * 2 ** 32 + (((d[2]! << 24) | (d[3]! << 16) | (d[4]! << 8) | d[5]!) >>> 0);
}
