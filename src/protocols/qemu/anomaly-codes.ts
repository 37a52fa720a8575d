import { anomalyDef } from '../../core/anomaly.js';

/**
 * QEMU migration stream anomaly codes (stable: docs/anomalies.md). All but TRAILING_BYTES
 * stop the walk: the stream has no resync point.
 */
export const QemuAnomaly = {
  BAD_MAGIC: anomalyDef('QEMU_BAD_MAGIC', 'protocol-error', "stream does not start with the 'QEVM' magic", ['magic']),
  BAD_VERSION: anomalyDef('QEMU_BAD_VERSION', 'protocol-error', 'unsupported stream version', ['version']),
  ITEM_TOO_LARGE: anomalyDef('QEMU_ITEM_TOO_LARGE', 'protocol-error', 'record header larger than the limit or no progress', ['limit']),
  /** length: the bytes missing. */
  GAP_IN_RECORD: anomalyDef('QEMU_GAP_IN_RECORD', 'protocol-error', 'bytes missing inside a record header', ['length']),
  UNKNOWN_RECORD: anomalyDef('QEMU_UNKNOWN_RECORD', 'protocol-error', 'unknown record type', ['recordType', 'offset']),
  RECORD_AFTER_EOF: anomalyDef('QEMU_RECORD_AFTER_EOF', 'protocol-error', 'record other than VMDESCRIPTION after QEMU_VM_EOF', ['recordType']),
  TRAILING_BYTES: anomalyDef('QEMU_TRAILING_BYTES', 'protocol-error', 'bytes after VMDESCRIPTION (ignored)'),
  BAD_SECTION_NAME: anomalyDef('QEMU_BAD_SECTION_NAME', 'protocol-error', 'section idstr is not printable', ['section']),
  TOO_MANY_SECTIONS: anomalyDef('QEMU_TOO_MANY_SECTIONS', 'protocol-error', 'more sections than the limit', ['limit']),
  UNKNOWN_SECTION: anomalyDef('QEMU_UNKNOWN_SECTION', 'protocol-error', 'SECTION_PART/END of a section never started', ['section']),
  FOOTER_MISMATCH: anomalyDef('QEMU_FOOTER_MISMATCH', 'protocol-error', "section footer names another section", ['footer', 'section']),
  DEVICE_SECTION_WITHOUT_FOOTERS: anomalyDef('QEMU_DEVICE_SECTION_WITHOUT_FOOTERS', 'protocol-error', 'device section in a stream without footers: its end cannot be found'),
  MACHINE_TYPE_TOO_LONG: anomalyDef('QEMU_MACHINE_TYPE_TOO_LONG', 'protocol-error', 'machine type name longer than 256 bytes', ['length']),
  SUBSECTION_OUTSIDE_SECTION: anomalyDef('QEMU_SUBSECTION_OUTSIDE_SECTION', 'protocol-error', 'subsection outside a section'),
  BAD_PAGE_BITS: anomalyDef('QEMU_BAD_PAGE_BITS', 'protocol-error', 'target page bits outside 9 … 16', ['bits']),
  TOO_MANY_CAPABILITIES: anomalyDef('QEMU_TOO_MANY_CAPABILITIES', 'protocol-error', 'more than 64 capabilities in the configuration', ['count']),
  UNKNOWN_CONFIG_SUBSECTION: anomalyDef('QEMU_UNKNOWN_CONFIG_SUBSECTION', 'protocol-error', 'unknown configuration subsection'),
  PASSES_NOT_KEPT: anomalyDef('QEMU_PASSES_NOT_KEPT', 'memory-shed', 'more RAM passes than the limit: later passes counted, not reported one by one', ['limit']),
  UNKNOWN_COMMAND: anomalyDef('QEMU_UNKNOWN_COMMAND', 'protocol-error', 'QEMU_VM_COMMAND number outside 1 … 10 (QEMU 7.2)', ['command']),
  BAD_PACKAGE: anomalyDef('QEMU_BAD_PACKAGE', 'protocol-error', "post-copy package command whose data is not its u32 length", ['length']),
  VMDESC_TOO_LARGE: anomalyDef('QEMU_VMDESC_TOO_LARGE', 'protocol-error', 'VMDESCRIPTION larger than 64 MiB', ['length']),
  // Multifd channels (a connection of their own per channel).
  MULTIFD_NO_PROGRESS: anomalyDef('QEMU_MULTIFD_NO_PROGRESS', 'protocol-error', 'multifd packet header not parsed (no progress)'),
  MULTIFD_GAP_IN_HEADER: anomalyDef('QEMU_MULTIFD_GAP_IN_HEADER', 'protocol-error', 'bytes missing inside a multifd packet header', ['length']),
  MULTIFD_BAD_MAGIC: anomalyDef('QEMU_MULTIFD_BAD_MAGIC', 'protocol-error', 'multifd packet without the 0x11223344 magic', ['magic', 'offset']),
  MULTIFD_BAD_VERSION: anomalyDef('QEMU_MULTIFD_BAD_VERSION', 'protocol-error', 'unsupported multifd version', ['version']),
  MULTIFD_BAD_PAGES_ALLOC: anomalyDef('QEMU_MULTIFD_BAD_PAGES_ALLOC', 'protocol-error', 'multifd pages per packet outside 1 … 1024', ['pagesAlloc']),
  MULTIFD_PAGES_OVER_ALLOC: anomalyDef('QEMU_MULTIFD_PAGES_OVER_ALLOC', 'protocol-error', 'more multifd pages than allocated in the packet', ['pages', 'pagesAlloc']),
  MULTIFD_UNKNOWN_FLAGS: anomalyDef('QEMU_MULTIFD_UNKNOWN_FLAGS', 'protocol-error', 'unknown multifd packet flags', ['flags']),
  /** value: the first non-zero u32 of the 32 bytes QEMU 7.2 reserves (QEMU 9.0 puts zero_pages there). */
  MULTIFD_RESERVED_NOT_ZERO: anomalyDef('QEMU_MULTIFD_RESERVED_NOT_ZERO', 'protocol-error', 'multifd packet header uses bytes QEMU 7.2 reserves (a later layout, e.g. 9.0 zero pages): channel no longer decoded', ['value']),
  MULTIFD_BAD_DATA_SIZE: anomalyDef('QEMU_MULTIFD_BAD_DATA_SIZE', 'protocol-error', 'multifd data size is not a whole number of pages', ['size', 'pages']),
  MULTIFD_BAD_RAMBLOCK_NAME: anomalyDef('QEMU_MULTIFD_BAD_RAMBLOCK_NAME', 'protocol-error', 'multifd RAMBlock name is not printable'),
  // RAM section records.
  PAGE_OUTSIDE_SECTION: anomalyDef('QEMU_PAGE_OUTSIDE_SECTION', 'protocol-error', 'page record outside SECTION_PART/END'),
  BAD_RAMBLOCK_NAME: anomalyDef('QEMU_BAD_RAMBLOCK_NAME', 'protocol-error', 'RAMBlock idstr is empty or not printable'),
  TOO_MANY_RAMBLOCKS: anomalyDef('QEMU_TOO_MANY_RAMBLOCKS', 'protocol-error', 'more RAMBlocks than the limit', ['limit']),
  CONTINUE_WITHOUT_RAMBLOCK: anomalyDef('QEMU_CONTINUE_WITHOUT_RAMBLOCK', 'protocol-error', 'RAM_SAVE_FLAG_CONTINUE before any RAMBlock was named'),
  COMPRESSED_PAGE_TOO_LARGE: anomalyDef('QEMU_COMPRESSED_PAGE_TOO_LARGE', 'protocol-error', 'compressed page larger than two pages', ['length']),
  UNSUPPORTED_RAM_FLAGS: anomalyDef('QEMU_UNSUPPORTED_RAM_FLAGS', 'protocol-error', 'unsupported RAM record flags', ['flags']),
  RAMBLOCK_EXCEEDS_MEM_SIZE: anomalyDef('QEMU_RAMBLOCK_EXCEEDS_MEM_SIZE', 'protocol-error', 'RAMBlock larger than the MEM_SIZE total', ['size']),
} as const;
