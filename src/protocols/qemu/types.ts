/**
 * QEMU migration stream (savevm format version 3) wire constants and the messages this
 * decoder raises (this folder owns them; ../types.ts assembles the union).
 *
 * Definitions used by the decoder (see decode.ts for the details):
 * - A pre-copy RAM *pass* starts at the first page record of pre-copy, and again
 *   whenever a page record's position (index of its RAMBlock in the MEM_SIZE list,
 *   offset in the block) is lower than the previous page record's: the dirty-page
 *   scanner wrapped around. Only pages in SECTION_PART(ram) are pre-copy passes.
 *   SECTION_END(ram) (the pages left when the VM stopped) is the last pass, the
 *   stop-and-copy pass. `pass-started` is raised for pre-copy passes only.
 * - iterations: switchover.iterations = pre-copy passes; eof.iterations = pre-copy
 *   passes + 1 (the stop-and-copy pass): passes seen on the wire. QEMU 7.2's
 *   dirty-sync-count counts bitmap syncs: at setup (pass 1), before each further
 *   pre-copy pass, once in the pending check that decides to stop (no pass follows it),
 *   and once in ram_save_complete (the stop-and-copy pass). Hence iterations ≤
 *   dirty-sync-count ≤ iterations + 1 when every pass's dirty set exceeds the stop
 *   threshold (bandwidth × downtime-limit): iterations + 1 normally, iterations when the
 *   bulk pass ended before the first threshold was computed (no separate stopping
 *   check); a sync inside a pass the scanner has not wrapped adds one more
 *   (test/real/qemu-migration.test.ts holds the range).
 * - passBytes[i]: stream bytes of pass i+1, from the first byte of the record that
 *   carries its first page (the SECTION_PART header when that page is the section's
 *   first page, else the page record) up to the start of the next pass; the last entry
 *   is the SECTION_END(ram) record (header, pages, EOS, footer). Header, configuration
 *   and setup + Σ pre-copy passBytes = precopyBytes.
 * - precopyBytes: stream bytes before the first byte of SECTION_END(ram).
 * - stopCopyBytes: stream bytes from SECTION_END(ram) to the end of the stream
 *   (last RAM pages, device state, EOF, VMDESCRIPTION); ramStopCopyBytes: the
 *   SECTION_END(ram) record alone (QEMU's downtime-bytes + 18 bytes of framing).
 */
import type { MessageBase } from '../../core/message.js';
import type { Picos } from '../../core/time.js';

interface QemuBase extends MessageBase {
  protocol: 'qemu';
  /** Stream bytes (source → destination payload) up to and including this record. */
  streamBytes: number;
}
export interface QemuStreamHeader extends QemuBase { kind: 'header'; version: number }
/** A RAM pass (pre-copy iteration) began: page offsets wrapped back to the first block. */
export interface QemuPassStarted extends QemuBase { kind: 'pass-started'; iteration: number }
/** End of a RAM chunk (EOS flag): live progress. */
export interface QemuRamChunk extends QemuBase {
  kind: 'ram-chunk';
  iteration: number;
  /** Pages (normal + zero) in this chunk. */
  pages: number;
  /** Stream bytes of RAM pages in the current pass so far. */
  passBytes: number;
}
/** The stream left pre-copy (SECTION_END of "ram"): the VM is paused at the source. */
export interface QemuSwitchover extends QemuBase {
  kind: 'switchover';
  iterations: number;
  precopyBytes: number;
  /**
   * What ended pre-copy: 'stop-and-copy' (SECTION_END(ram): the VM paused, the rest
   * sent) or 'postcopy' (MIG_CMD_PACKAGED: the VM paused, its device state sent, and it
   * resumes on the destination before RAM is complete).
   */
  mechanism: 'stop-and-copy' | 'postcopy';
}
/** A device-state section (SECTION_FULL) in stop-and-copy. */
export interface QemuDeviceSection extends QemuBase { kind: 'device-section'; idstr: string }
/** QEMU_VM_EOF: the migration stream is complete. */
export interface QemuStreamEnd extends QemuBase {
  kind: 'eof';
  iterations: number;
  precopyBytes: number;
  stopCopyBytes: number;
  /** Bytes per RAM pass, index 0 = pass 1. */
  passBytes: number[];
  /** Stream bytes of the SECTION_END(ram) record: the RAM part of stop-and-copy (≈ QEMU downtime-bytes). */
  ramStopCopyBytes?: number;
  /** Page records in the whole stream: full pages (QEMU ram.normal) and zero pages (ram.duplicate). */
  normalPages?: number;
  zeroPages?: number;
  /** Post-copy: stream bytes from the package's end to the end (RAM sent after the
   *  switch, its framing, the final SECTION_END and EOF). */
  postcopyBytes?: number;
  /**
   * Post-copy: requested pages seen arriving on the stream, and the time from the
   * request's capture (return path) to the page's (matched by offset within its block).
   */
  requestLatency?: { served: number; mean: Picos; max: Picos };
  /** XBZRLE pages and bytes (QEMU's xbzrle-cache.pages/bytes), compressed pages; when any. */
  xbzrlePages?: number;
  xbzrleBytes?: number;
  compressedPages?: number;
  compressedBytes?: number;
}
/**
 * The stream closed (FIN/RST) before QEMU_VM_EOF: a cancelled or failed migration, with
 * the figures it got through (iterations counts the pass it was in; passBytes' last entry
 * is that pass up to the cut; stopCopyBytes is 0 unless SECTION_END(ram) had begun).
 */
export interface QemuStreamCut extends QemuBase {
  kind: 'cut';
  iterations: number;
  precopyBytes: number;
  stopCopyBytes: number;
  passBytes: number[];
  normalPages: number;
  zeroPages: number;
  xbzrlePages?: number;
  xbzrleBytes?: number;
  compressedPages?: number;
  compressedBytes?: number;
}
/** A multifd channel opened (MultiFDInit_t): its channel id. */
export interface MultifdChannelOpened extends QemuBase { kind: 'multifd-channel'; channel: number }
/**
 * One MultiFDPacket_t on a multifd channel (raised at its header; streamBytes counts its
 * offsets and page data too). packetNum is global across the channels of a migration.
 */
export interface MultifdPacket extends QemuBase {
  kind: 'multifd-packet';
  channel: number;
  packetNum: number;
  /** MULTIFD_FLAG_SYNC: a sync point (QEMU 7.2: one per channel at the end of each RAM chunk). */
  sync: boolean;
  /** 0 none, 1 zlib, 2 zstd (MULTIFD_FLAG_*_COMPRESSION >> 1). */
  compression: number;
  /** Pages of data in the packet (normal_pages). */
  pages: number;
  /** RAMBlock of the pages ('' when none) and the offset of the first one. */
  block: string;
  firstOffset: number;
  /** Header, offsets and page data: what QEMU 7.2 adds to multifd-bytes for this packet. */
  bytes: number;
}
/** The multifd channel closed: its exact bytes (init packet included). */
export interface MultifdChannelEnd extends QemuBase { kind: 'multifd-end'; channel: number; packets: number; pages: number }
export type MultifdMessage = MultifdChannelOpened | MultifdPacket | MultifdChannelEnd;

/**
 * A migration connection that carries TLS (QEMU native TLS, `tls-creds`): not decoded.
 * Raised at its first bytes.
 */
export interface QemuEncrypted extends QemuBase { kind: 'encrypted'; transport: 'tls' }
/** The encrypted connection's source closed: what could be counted. */
export interface QemuEncryptedEnd extends QemuBase {
  kind: 'encrypted-end';
  transport: 'tls';
  /** Destination → source bytes (QEMU's return path, and TLS handshake replies). */
  returnBytes: number;
  /** TLS records the source sent (until the record layer was lost to a hole, if it was). */
  records: number;
  /** Capture times of the first and last application-data records from the source. */
  firstData?: Picos;
  lastData?: Picos;
}

/** The destination asked for pages on the return path (MIG_RP_MSG_REQ_PAGES[_ID]):
 *  post-copy's page faults. streamBytes: return-path bytes so far. */
export interface QemuPageRequest extends QemuBase { kind: 'page-request'; bytes: number }

/**
 * The capture's snaplen cut stream bytes the walk needed (a record header): from here
 * on the stream is counted from TCP sequence numbers, records are not followed, so
 * passes, switch-over and QEMU_VM_EOF stay unknown. `streamBytes`: where the walk stopped.
 */
export interface QemuPayloadCut extends QemuBase { kind: 'payload-cut' }
/** End (FIN/RST/timeout) of a stream whose payload was cut: total bytes from sequence numbers. */
export interface QemuCutStreamEnd extends QemuBase {
  kind: 'cut-end';
  /** Of streamBytes, those the capture did not keep. */
  cutBytes: number;
}
export type QemuMessage =
  | QemuStreamHeader | QemuPassStarted | QemuRamChunk | QemuSwitchover | QemuDeviceSection | QemuStreamEnd
  | QemuStreamCut | MultifdMessage | QemuEncrypted | QemuEncryptedEnd | QemuPageRequest
  | QemuPayloadCut | QemuCutStreamEnd;

export const QEMU_VM_FILE_MAGIC = 0x5145564d; // 'QEVM'
export const QEMU_VM_FILE_VERSION = 3;

/** Record type bytes (savevm.c). */
export const enum QemuRecord {
  Eof = 0x00,
  SectionStart = 0x01,
  SectionPart = 0x02,
  SectionEnd = 0x03,
  SectionFull = 0x04,
  Subsection = 0x05,
  VmDescription = 0x06,
  Configuration = 0x07,
  Command = 0x08,
  SectionFooter = 0x7e,
}

/**
 * QEMU_VM_COMMAND numbers (savevm.c enum qemu_vm_cmd) as QEMU 7.2 sends them: on a real
 * 7.2 post-copy capture the package is command 7 (u32 length, then LISTEN = 4 inside).
 */
export const enum QemuCommand {
  OpenReturnPath = 1,
  Ping = 2,
  PostcopyAdvise = 3,
  PostcopyListen = 4,
  PostcopyRun = 5,
  PostcopyRamDiscard = 6,
  Packaged = 7,
  PostcopyResume = 8,
  RecvBitmap = 9,
  EnableColo = 10,
}
export const MAX_COMMAND = 10;

/** Return-path message types (migration.c enum mig_rp_message_type, QEMU 7.2). */
export const enum ReturnPathMessage { Shut = 1, Pong = 2, ReqPagesId = 3, ReqPages = 4, RecvBitmap = 5, ResumeAck = 6 }

/** Flags in the low bits of a RAM record's `u64 addr|flags` (ram.c). */
export const enum RamFlag {
  Full = 0x01, // obsolete
  Zero = 0x02,
  MemSize = 0x04,
  Page = 0x08,
  Eos = 0x10,
  Continue = 0x20,
  Xbzrle = 0x40,
  Hook = 0x80, // RDMA only
  CompressPage = 0x100,
  MultifdFlush = 0x200,
}

/** multifd channels (migration/multifd.c, QEMU 7.2). */
export const MULTIFD_MAGIC = 0x11223344;
export const MULTIFD_VERSION = 1;
/** MultiFDInit_t. */
export const MULTIFD_INIT_BYTES = 64;
/** MultiFDPacket_t without its offset[] array. */
export const MULTIFD_PACKET_HEADER_BYTES = 320;
export const MULTIFD_FLAG_SYNC = 0x1;
/** Compression method bits (zlib 0x2, zstd 0x4). */
export const MULTIFD_COMPRESSION_MASK = 0xe;

/** x86 target page; a CONFIGURATION "target-page-bits" subsection overrides it. */
export const DEFAULT_TARGET_PAGE_SIZE = 4096;
