import { LinkType, type PacketSink, type RecordSink } from '../types.js';
import { secPsecOf } from '../batch.js';
import {
  CAP_HEADER_SIZE,
  ETH_HEADER_SIZE,
  ETHERTYPE_DPMI,
  NameCache,
  SENDER_FLUSH,
  SENDHEAD_SIZE,
} from './layout.js';
import { SequenceVerdict, SequenceWindow } from './sequence.js';

/** Senders tracked at most (the native tracker's table holds 16; files may hold more). */
const MAX_STREAMS = 4096;

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
  /** The sender started a new sequence (after a SENDER_FLUSH frame, or a jump far back). */
  sequenceResets: number;
  /** Late frames (behind the newest of their sequence): accepted, their loss taken back. */
  reorderedFrames: number;
  /** Frames with SENDER_FLUSH (the MP closed/flushed a stream). */
  flushes: number;
  /** Distinct senders (destination + source MAC) seen. */
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
    reorderedFrames: 0,
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
  private readonly streams = new Map<string, SequenceWindow>();
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
    if (!this.sequence(d, seq, flags)) return;
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
    if ((flags & SENDER_FLUSH) !== 0) this.stats.flushes++;
  }

  /** Sequence accounting per sender (destination + source MAC); false = drop the frame. */
  private sequence(d: Uint8Array, seq: number, flags: number): boolean {
    const key = streamKey(d);
    let s = this.streams.get(key);
    if (!s) {
      if (this.streams.size >= MAX_STREAMS) return true; // cannot track more senders: accept
      s = new SequenceWindow();
      this.streams.set(key, s);
      this.stats.streams++;
    }
    const v = s.accept(seq, flags, this.stats);
    if (v === SequenceVerdict.OutOfRange) {
      this.bad(`measurement frame sequence number ${seq} out of range`, d.length);
      return false;
    }
    return v === SequenceVerdict.Accept;
  }

  private bad(reason: string, droppedBytes: number): void {
    this.stats.malformedFrames++;
    this.stats.skippedBytes += droppedBytes;
    this.problem ??= reason;
  }
}

/** The stream a frame belongs to: its 48-bit destination MAC as a number. */
/** One sequence per sender: destination (multicast) and source MAC. */
function streamKey(d: Uint8Array): string {
  let k = '';
  for (let i = 0; i < 12; i++) k += String.fromCharCode(d[i]!);
  return k;
}
