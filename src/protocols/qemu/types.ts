/**
 * QEMU migration stream (savevm format version 3) wire constants and the messages this
 * decoder raises. The message shapes are the contract types in ../types.ts.
 *
 * Definitions used by the decoder (see decode.ts for the details):
 * - A RAM *pass* starts at the first page record of pre-copy, and again whenever a page
 *   record's position (index of its RAMBlock in the MEM_SIZE list, offset in the block)
 *   is lower than the previous page record's: the dirty-page scanner wrapped around.
 *   Only pages in SECTION_PART(ram) count; the pages inside SECTION_END(ram) are the
 *   stop-and-copy remainder, not a pass.
 * - passBytes[i]: stream bytes from the first byte of the page record that started
 *   pass i+1 up to the first byte of the record that started the next pass (or of the
 *   SECTION_END(ram) record for the last pass). Section headers, footers and EOS words
 *   inside that span are included, so header + setup + Σ passBytes = precopyBytes.
 * - precopyBytes: stream bytes before the first byte of SECTION_END(ram).
 * - stopCopyBytes: stream bytes from SECTION_END(ram) to the end of the stream
 *   (last RAM pages, device state, EOF, VMDESCRIPTION).
 */
export type {
  QemuMessage, QemuStreamHeader, QemuPassStarted, QemuRamChunk, QemuSwitchover,
  QemuDeviceSection, QemuStreamEnd,
} from '../types.js';

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

/** x86 target page; a CONFIGURATION "target-page-bits" subsection overrides it. */
export const DEFAULT_TARGET_PAGE_SIZE = 4096;
