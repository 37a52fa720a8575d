import type { RecordSink } from '../types.js';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US } from './pcap-writer.js';
import { PushParser, type StepResult } from './push-parser.js';

/** Bytes of the file header before the first record. */
export const PCAP_FILE_HEADER = 24;
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
 * forward byte by byte for the next plausible record header that is followed by another
 * plausible one (or by the end of the file).
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
  private lastSec = -1;

  constructor(sink: RecordSink) {
    super(sink);
  }

  /** Reading goes on after a record of second `lastSec` read elsewhere (the file header comes first all the same). */
  resumeAfter(lastSec: number): void {
    this.lastSec = lastSec;
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
    if (this.resyncing || caplen === 0 || (this.lastSec >= 0 && Math.abs(sec - this.lastSec) > RESYNC_WINDOW_S)) {
      const r = this.vetRecord(off, avail, total, hdr, () => `pcap record (second ${sec}, caplen ${caplen}) not followed by a plausible record`,
        (next) => this.follows(dv, next, sec));
      if (r !== 0) return r;
    }
    if (avail < total) return -total;
    this.resyncing = false;
    this.lastSec = sec;
    this.emit(buf, off + hdr, caplen, orig > caplen ? orig : caplen, this.linkType, 0, sec, frac * (this.nanosecond ? 1000 : 1_000_000));
    return total;
  }

  private plausible(sec: number, frac: number, caplen: number, orig: number): boolean {
    if (frac >= (this.nanosecond ? 1_000_000_000 : 1_000_000) || caplen > this.maxCaplen) return false;
    if (!this.resyncing) return true;
    return this.candidate(sec, caplen, orig, this.lastSec);
  }

  /** Stricter rules for a record found by scanning: not empty (zero runs look like empty records), lengths consistent, near `refSec`. */
  private candidate(sec: number, caplen: number, orig: number, refSec: number): boolean {
    return caplen > 0 && caplen <= orig && orig <= MAX_RECORD && (refSec < 0 || Math.abs(sec - refSec) <= RESYNC_WINDOW_S);
  }

  /** The record header at `next` is what would follow a real record of second `sec`. */
  private follows(dv: DataView, next: number, sec: number): boolean {
    const le = this.littleEndian;
    const nextSec = dv.getUint32(next, le);
    const frac = dv.getUint32(next + 4, le);
    const caplen = dv.getUint32(next + 8, le);
    return frac < (this.nanosecond ? 1_000_000_000 : 1_000_000) && caplen <= this.maxCaplen
      && this.candidate(nextSec, caplen, dv.getUint32(next + 12, le), sec);
  }

  private fileHeader(dv: DataView, off: number, avail: number): StepResult {
    if (avail < PCAP_FILE_HEADER) return -PCAP_FILE_HEADER;
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
    return PCAP_FILE_HEADER;
  }
}
