import { MigscopeError } from '../../core/errors.js';
import type { CaptureWriter } from '../types.js';

/** What the dpmi-frames writer packs into each measurement frame. */
export interface DpmiFrameOptions {
  /** L2 payload limit of a measurement frame (sendhead + records), default 1500. */
  mtu?: number;
  /** Multicast destination MAC of the stream, default 01:00:00:00:00:01. */
  dstMac?: string;
  /** Source MAC of the MP, default 02:00:00:00:00:01. */
  srcMac?: string;
  /** Flush a partly filled frame when the next packet is more than this later (ps), default 1 ms. */
  flushAfter?: bigint;
  /** First sendhead sequence number, default 0 (tests start near the wrap). */
  firstSequence?: number;
}

export interface CaptureWriterOptions {
  /** Bytes kept per packet; longer packets are cut (wire length kept). Default 262144. */
  snaplen?: number;
  /** Link type of the packets (pcap/pcapng), default Ethernet. */
  linkType?: number;
  /** DPMI measurement point id (≤ 8 bytes in records, ≤ 200 in the file header). */
  mampid?: string;
  /** DPMI capture interface name (≤ 8 bytes) / pcapng if_name. */
  nic?: string;
  /** pcapng SHB comment / DPMI file comment. */
  comment?: string;
  /** dpmi-frames only: how frames are packed. */
  dpmiFrames?: DpmiFrameOptions;
}

/** What a writer did besides writing: cuts are never silent. */
export interface WriterStats {
  packets: number;
  /** Packets whose captured length was cut (snaplen, or a measurement frame's MTU). */
  cutPackets: number;
  /** Measurement frames emitted (dpmi-frames only). */
  frames: number;
}

export interface StatsCaptureWriter extends CaptureWriter {
  readonly stats: WriterStats;
}

export const DEFAULT_SNAPLEN = 262_144;

export function newWriterStats(): WriterStats {
  return { packets: 0, cutPackets: 0, frames: 0 };
}

/** Rejects what no format can store (negative times); writers floor ts to their resolution. */
export function checkTs(ts: bigint, format: string): bigint {
  if (ts < 0n) throw new MigscopeError(`${format} writer: negative timestamp ${ts}`);
  return ts;
}

export function checkOpen(closed: boolean, format: string): void {
  if (closed) throw new MigscopeError(`${format} writer: write after close`);
}

const latin1 = new TextEncoder();

/** A NUL-padded fixed-size name field (DPMI nic/mampid/mpid). Longer names are cut. */
export function paddedName(name: string | undefined, size: number): Uint8Array {
  const out = new Uint8Array(size);
  if (name) out.set(latin1.encode(name).subarray(0, size));
  return out;
}

export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new MigscopeError(`bad MAC address "${mac}"`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
