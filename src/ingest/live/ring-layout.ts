/**
 * Byte layout of a capture ring, shared with native/ring_format.h (change both
 * together; native.ts checks the addon agrees at load time).
 *
 * One SharedArrayBuffer per ring: a 256-byte control block, then a power-of-two data
 * region. `head` (written by the capture thread) and `tail` (written by the one
 * consumer) are free-running u32 byte counters; position = counter & (capacity − 1).
 * They sit on separate cache lines. Records are 8-byte aligned:
 *
 * | off | size | field |
 * | --- | --- | --- |
 * | 0 | 4 | record length (header + caplen, padded to 8) |
 * | 4 | 2 | kind: 1 packet, 2 wrap (skip to start of data), 3 end of stream (32 bytes:
 *   sec/psec = the capture's last packet time) |
 * | 6 | 2 | LINKTYPE_* |
 * | 8 | 4 | caplen |
 * | 12 | 4 | wire length |
 * | 16 | 8 | seconds since the epoch |
 * | 24 | 8 | picoseconds within the second (< 10^12) |
 * | 32 | 8 | capture sequence number (global over all rings of one capture) |
 * | 40 | 8 | DPMI nic, NUL-padded (zeros otherwise) |
 * | 48 | 8 | DPMI mampid, NUL-padded |
 * | 56 | caplen | packet bytes from the link-layer header |
 *
 * Timestamps are (seconds, picoseconds) rather than one u64 of picoseconds because
 * 2^64 ps is only ~213 days: epoch picoseconds need more than 64 bits.
 */
export const RING_MAGIC = 0x4d475231;
export const CONTROL_BYTES = 256;
export const OFF_HEAD = 0;
export const OFF_TAIL = 64;
export const OFF_MAGIC = 128;
export const OFF_CAPACITY = 132;
export const OFF_DROP_RECORDS = 136;
export const OFF_DROP_BYTES = 140;
export const OFF_PRODUCER_DONE = 144;

export const RECORD_HEADER_BYTES = 56;
export const REC_LENGTH = 0;
export const REC_KIND = 4;
export const REC_LINK_TYPE = 6;
export const REC_CAPLEN = 8;
export const REC_WIRE_LENGTH = 12;
export const REC_SEC = 16;
export const REC_PSEC = 24;
export const REC_SEQ = 32;
export const REC_NIC = 40;
export const REC_MAMPID = 48;

export const RecordKind = { Packet: 1, Wrap: 2, Eof: 3 } as const;

/** Packets without a flow 5-tuple (ARP/RARP, ICMP, non-IP) always go to this ring. */
export const FIXED_RING = 0;

/**
 * Ring 0's control block also holds the capture's sequence frontier (next sequence
 * number mod 2^32, release-stored after every record): every record numbered below it
 * is already in its ring, so an idle consumer may advance its watermark to it − 1.
 */
export const OFF_SEQ_FRONTIER = 192;
