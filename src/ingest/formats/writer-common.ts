import { MigscopeError } from '../../core/errors.js';
import type { ByteSink, CaptureWriter, WriteFormat } from '../types.js';

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

/**
 * What the file writers share: the sink, the counts, closing once, and one packet's
 * captured bytes (cut to the snaplen, the cut counted).
 */
export abstract class FileWriter implements StatsCaptureWriter {
  abstract readonly format: WriteFormat;
  abstract readonly resolution: bigint;
  readonly stats: WriterStats = newWriterStats();
  protected closed = false;

  constructor(protected readonly sink: ByteSink) {}

  abstract write(ts: bigint, data: Uint8Array, wireLength?: number): void;

  /** A write may go ahead (open, ts ≥ 0): the captured length under `snaplen`. */
  protected begin(ts: bigint, data: Uint8Array, snaplen: number): number {
    checkOpen(this.closed, this.format);
    checkTs(ts, this.format);
    return Math.min(data.length, snaplen);
  }

  /** The packet's captured bytes (after its record header), counted. */
  protected packetData(data: Uint8Array, caplen: number): void {
    this.sink.write(caplen === data.length ? data : data.subarray(0, caplen));
    this.stats.packets++;
    if (caplen < data.length) this.stats.cutPackets++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
  }
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
