import type { CaptureFormat, CaptureReader, PacketSink, RecordSink } from '../types.js';
import { recordsTo } from '../batch.js';
import { DpmiFileReader, sniffDpmiHeader } from '../dpmi/file-reader.js';
import { PCAP_MAGICS, PcapReader } from './pcap-reader.js';
import { PcapngReader } from './pcapng-reader.js';
import { PCAPNG_BOM, PCAPNG_SHB } from './pcapng-writer.js';

/** Bytes detectFormat needs to decide (fewer do for the magics; old DPMI headers need 212). */
export const DETECT_BYTES = 256;

/**
 * The capture format from the first bytes of a file (never from its name): pcap (µs/ns,
 * either byte order), pcapng (section header + byte-order magic), DPMI (0.7 magic in
 * either byte order; 0.6/0.5 headers by their version fields). null when unknown.
 */
export function detectFormat(first: Uint8Array): CaptureFormat | null {
  if (first.length < 4) return null;
  const dv = new DataView(first.buffer, first.byteOffset, first.byteLength);
  const le = dv.getUint32(0, true);
  const be = dv.getUint32(0, false);
  if (PCAP_MAGICS.includes(le) || PCAP_MAGICS.includes(be)) return 'pcap';
  if (le === PCAPNG_SHB) {
    if (first.length < 12) return null;
    const bom = dv.getUint32(8, true);
    return bom === PCAPNG_BOM || bom === 0x4d3c2b1a ? 'pcapng' : null;
  }
  return sniffDpmiHeader(first, true) ? 'dpmi' : null;
}

/** A push parser for `format`, delivering packets as objects to `sink`. */
export function createCaptureReader(format: CaptureFormat, sink: PacketSink): CaptureReader & { problem: string | undefined } {
  return createRecordReader(format, recordsTo(sink));
}

/** A push parser for `format`, delivering packets as positional values (no object per packet). */
export function createRecordReader(format: CaptureFormat, sink: RecordSink): CaptureReader & { problem: string | undefined } {
  switch (format) {
    case 'pcap':
      return new PcapReader(sink);
    case 'pcapng':
      return new PcapngReader(sink);
    case 'dpmi':
      return new DpmiFileReader(sink);
  }
}

/** Printable description of unknown first bytes for error messages. */
export function describeMagic(first: Uint8Array): string {
  const hex = Array.from(first.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return first.length === 0 ? 'an empty file' : `first bytes ${hex}`;
}
