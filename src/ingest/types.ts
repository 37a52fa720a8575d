import type { Picos } from '../core/time.js';

/** libpcap LINKTYPE_* values we understand. */
export const LinkType = {
  Null: 0,
  Ethernet: 1,
  Raw: 101,
  LinuxSll: 113,
  LinuxSll2: 276,
} as const;
export type LinkType = number;

/**
 * One captured packet, as every reader (pcap, pcapng, DPMI file, DPMI measurement
 * frame, live ring) hands it on. `data` is a view into the reader's buffer: valid only
 * during the synchronous callback that receives it. Copy it if you must keep it
 * (decoders never do: they keep offsets and small parsed values only).
 */
export interface CapturedPacket {
  /** Wire timestamp, picoseconds since the epoch (DPMI precision kept). */
  ts: Picos;
  /** Captured bytes, starting at the link-layer header. */
  data: Uint8Array;
  /** Original length on the wire (≥ data.length when a snaplen cut the packet). */
  wireLength: number;
  linkType: LinkType;
  /** pcapng interface id, or 0. */
  iface: number;
  /** DPMI capture interface name ("d00") and measurement point id, when known. */
  nic?: string;
  mampid?: string;
}

export type PacketSink = (pkt: CapturedPacket) => void;

/**
 * What readers hand on per packet, as positional values: the packet is
 * buf[off, off + len), its time `sec` seconds + `psec` picoseconds (< 10^12) since the
 * epoch. No object, view or BigInt per packet; `buf` stays intact until the reader's next
 * push(). `nic`/`mampid` are set by DPMI sources only (shared strings, not per packet).
 */
export type RecordSink = (
  buf: Uint8Array, off: number, len: number, wireLength: number, linkType: LinkType, iface: number,
  sec: number, psec: number, nic: string | undefined, mampid: string | undefined,
) => void;

/** What a reader counts besides packets: every loss is reported, never silent. */
export interface ReaderStats {
  packets: number;
  bytes: number;
  /** Records that could not be read (bad length, unknown block, truncated tail). */
  malformedRecords: number;
  /** A truncated final record (file cut mid-record). */
  truncated: boolean;
  /** DPMI measurement-frame sequence gaps: frames lost between MP and us. */
  lostFrames: number;
  duplicateFrames: number;
  /** Input bytes not delivered as packets: resync scans, bad blocks, the rest after a stop. */
  skippedBytes?: number;
  /** Packets whose time lies before 1970 or after 9999 (pcapng if_tsoffset): delivered as read, counted. */
  timesOutOfRange?: number;
}

/**
 * Push parser for a capture format: feed it bytes as they arrive (any chunking),
 * it calls the sink for each complete packet, and keeps only an incomplete tail.
 * Memory stays constant whatever the file size.
 */
export interface CaptureReader {
  readonly format: CaptureFormat;
  push(chunk: Uint8Array): void;
  /** End of input: reports a truncated trailing record in stats. */
  end(): void;
  readonly stats: ReaderStats;
}

export type CaptureFormat = 'pcap' | 'pcapng' | 'dpmi';

/** Formats migscope can write (the generator's --format). */
export type WriteFormat = 'pcap' | 'pcap-ns' | 'pcapng' | 'dpmi' | 'dpmi-frames';

/** Where a writer's bytes go (a file, a buffer in tests). Synchronous by design. */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

/** Serialises packets into one capture format. Packets must come in timestamp order. */
export interface CaptureWriter {
  readonly format: WriteFormat;
  /** Timestamp resolution of the format: ts must be a multiple of this (ps). */
  readonly resolution: bigint;
  /** data starts at the Ethernet header; wireLength defaults to data.length. */
  write(ts: bigint, data: Uint8Array, wireLength?: number): void;
  close(): void;
}
