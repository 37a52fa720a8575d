import type { RecordSink } from '../types.js';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US } from './pcap-writer.js';
import { PushParser, type StepResult } from './push-parser.js';

const FILE_HEADER = 24;
/** Alexey Kuznetzov's patched libpcap (old Linux tcpdump): µs, 8 more bytes per record header. */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
/** Every pcap magic this reader takes (detect.ts sniffs with the same list). */
export const PCAP_MAGICS: readonly number[] = [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_MODIFIED];
/** Largest caplen we accept whatever the header's snaplen says (libpcap's own limit is 256 KiB). */
const MAX_RECORD = 1 << 20;
/** While resynchronising, a candidate record must lie within a day of the last good one. */
const RESYNC_WINDOW_S = 86_400;

/**
 * libpcap file reader: µs and ns magics, both byte orders. A record with an implausible
 * header (fraction ≥ 1 s, caplen beyond the limit) is counted once and the reader scans
 * forward byte by byte for the next plausible record header.
 */
export class PcapReader extends PushParser {
  readonly format = 'pcap' as const;
  littleEndian = true;
  nanosecond = false;
  snaplen = 0;
  linkType = 0;
  /** 16, or 24 in the modified format (ifindex, protocol, pkt_type follow). */
  recordHeader = 16;
  private haveHeader = false;
  private maxCaplen = MAX_RECORD;
  private resyncing = false;
  private lastSec = -1;

  constructor(sink: RecordSink) {
    super(sink);
  }

  protected step(buf: Uint8Array, dv: DataView, off: number, avail: number): StepResult {
    if (!this.haveHeader) return this.fileHeader(dv, off, avail);
    const hdr = this.recordHeader;
    if (avail < hdr) return -hdr;
    const le = this.littleEndian;
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const caplen = dv.getUint32(off + 8, le);
    const orig = dv.getUint32(off + 12, le);
    if (!this.plausible(sec, frac, caplen, orig)) {
      if (!this.resyncing) this.malformed(`implausible pcap record header (caplen ${caplen}, fraction ${frac})`);
      this.resyncing = true;
      this.skipped(1);
      return 1;
    }
    const total = hdr + caplen;
    if (avail < total) return -total;
    this.resyncing = false;
    this.lastSec = sec;
    this.emit(buf, off + hdr, caplen, orig > caplen ? orig : caplen, this.linkType, 0, sec, frac * (this.nanosecond ? 1000 : 1_000_000));
    return total;
  }

  private plausible(sec: number, frac: number, caplen: number, orig: number): boolean {
    if (frac >= (this.nanosecond ? 1_000_000_000 : 1_000_000) || caplen > this.maxCaplen) return false;
    if (!this.resyncing) return true;
    return caplen <= orig && orig <= MAX_RECORD && (this.lastSec < 0 || Math.abs(sec - this.lastSec) <= RESYNC_WINDOW_S);
  }

  private fileHeader(dv: DataView, off: number, avail: number): StepResult {
    if (avail < FILE_HEADER) return -FILE_HEADER;
    const magicLe = dv.getUint32(off, true);
    const magicBe = dv.getUint32(off, false);
    if (PCAP_MAGICS.includes(magicLe)) this.littleEndian = true;
    else if (PCAP_MAGICS.includes(magicBe)) this.littleEndian = false;
    else {
      this.stop(`not a pcap file (magic 0x${magicBe.toString(16).padStart(8, '0')})`);
      return avail;
    }
    const magic = dv.getUint32(off, this.littleEndian);
    this.nanosecond = magic === PCAP_MAGIC_NS;
    this.recordHeader = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
    this.snaplen = dv.getUint32(off + 16, this.littleEndian);
    // The upper bits of the link-type field carry FCS information, not the type.
    this.linkType = dv.getUint32(off + 20, this.littleEndian) & 0xffff;
    this.maxCaplen = Math.min(Math.max(this.snaplen, 262_144), MAX_RECORD);
    this.haveHeader = true;
    return FILE_HEADER;
  }
}
