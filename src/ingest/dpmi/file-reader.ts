import type { RecordSink } from '../types.js';
import { LinkType } from '../types.js';
import { PushParser, type StepResult } from '../formats/push-parser.js';
import {
  CAP_HEADER_SIZE,
  decodeName,
  FILE_MAGIC,
  FILE_MAGIC_SWAPPED,
  MAX_CAPLEN,
  MPID_SIZE,
  NameCache,
} from './layout.js';

/** Pre-0.7 headers carry no magic: {u32 comment_size; u8 major, minor; char mpid[200]} (+2 padding). */
const HEADER_06 = 208;
/** {u32 comment_size; u32 major, minor; char mpid[200]}. */
const HEADER_05 = 212;
const MAX_HEADER_OFFSET = 4096;

export type DpmiVersion = '0.7' | '0.6' | '0.5';

const PSEC_LIMIT = 1_000_000_000_000;

/** The u64 picoseconds at `at` as a number (exact below 2^53; valid values are < 10^12). */
const psecAt = (dv: DataView, at: number, le: boolean): number =>
  dv.getUint32(at + (le ? 4 : 0), le) * 2 ** 32 + dv.getUint32(at + (le ? 0 : 4), le);
/** While resynchronising, a candidate record must lie within a day of the last good one. */
const RESYNC_WINDOW_S = 86_400;
/** While resynchronising: a record found by scanning must not be empty, have consistent lengths and lie within a day of `refSec`. */
const candidate = (sec: number, len: number, caplen: number, refSec: number): boolean =>
  caplen > 0 && caplen <= len && len <= MAX_CAPLEN && (refSec < 0 || Math.abs(sec - refSec) <= RESYNC_WINDOW_S);

/** An mpid field: printable ASCII, then NUL padding to the end (older headers have no magic to go by). */
function plausibleMpid(bytes: Uint8Array, at: number): boolean {
  let i = at;
  const end = at + MPID_SIZE;
  while (i < end && bytes[i]! >= 0x20 && bytes[i]! < 0x7f) i++;
  while (i < end && bytes[i] === 0) i++;
  return i === end;
}

/**
 * Recognises a DPMI capture file header; byte order from the magic (0.7) or guessed
 * (older). `strict` (format detection) also requires a clean mpid field in 0.6/0.5
 * headers, which carry no magic, so that other files are not mistaken for them.
 */
export function sniffDpmiHeader(bytes: Uint8Array, strict = false): { version: DpmiVersion; littleEndian: boolean } | null {
  if (bytes.length < 8) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = dv.getBigUint64(0, true);
  if (m === FILE_MAGIC) return { version: '0.7', littleEndian: true };
  if (m === FILE_MAGIC_SWAPPED) return { version: '0.7', littleEndian: false };
  if (bytes.length < 12) return null;
  for (const le of [true, false]) {
    const comment = dv.getUint32(0, le);
    if (comment > 0xffff) continue;
    const version: DpmiVersion | null =
      bytes[4] === 0 && bytes[5] === 6 ? '0.6' : dv.getUint32(4, le) === 0 && dv.getUint32(8, le) === 5 ? '0.5' : null;
    if (!version) continue;
    const mpidAt = version === '0.6' ? 6 : 12;
    if (strict && !(bytes.length >= mpidAt + MPID_SIZE && plausibleMpid(bytes, mpidAt))) continue;
    return { version, littleEndian: le };
  }
  return null;
}

/**
 * DPMI capture file reader (0.7; 0.6 and 0.5 headers too). Records are the 36-byte
 * capture header + caplen bytes, in the file's byte order. An implausible record
 * header (psec ≥ 10^12, caplen > len or huge) is counted once and the reader scans
 * forward for the next plausible one that is followed by another (or by the end).
 */
export class DpmiFileReader extends PushParser {
  readonly format = 'dpmi' as const;
  version: DpmiVersion | undefined;
  littleEndian = true;
  mpid = '';
  comment = '';
  private haveHeader = false;
  private lastSec = -1;
  private readonly nics = new NameCache();
  private readonly mampids = new NameCache();

  constructor(sink: RecordSink) {
    super(sink);
  }

  protected step(buf: Uint8Array, dv: DataView, off: number, avail: number): StepResult {
    if (!this.haveHeader) return this.fileHeader(buf, dv, off, avail);
    if (avail < CAP_HEADER_SIZE) return -CAP_HEADER_SIZE;
    const le = this.littleEndian;
    const sec = dv.getUint32(off + 16, le);
    // u64 picoseconds, < 10^12 when valid: two u32 halves keep it a number (no BigInt).
    const psec = psecAt(dv, off + 20, le);
    const len = dv.getUint32(off + 28, le);
    const caplen = dv.getUint32(off + 32, le);
    const ok = psec < PSEC_LIMIT && caplen <= MAX_CAPLEN && (!this.resyncing || candidate(sec, len, caplen, this.lastSec));
    if (!ok) {
      if (!this.resyncing) this.malformed(`implausible DPMI capture header (caplen ${caplen}, len ${len})`);
      this.resyncing = true;
      this.skipped(1);
      return 1;
    }
    const total = CAP_HEADER_SIZE + caplen;
    if (this.resyncing || caplen === 0 || (this.lastSec >= 0 && Math.abs(sec - this.lastSec) > RESYNC_WINDOW_S)) {
      const r = this.vetRecord(off, avail, total, CAP_HEADER_SIZE,
        () => `DPMI record (second ${sec}, caplen ${caplen}) not followed by a plausible record`, (next) => (
        psecAt(dv, next + 20, le) < PSEC_LIMIT
        && candidate(dv.getUint32(next + 16, le), dv.getUint32(next + 28, le), dv.getUint32(next + 32, le), sec)));
      if (r !== 0) return r;
    }
    if (avail < total) return -total;
    this.resyncing = false;
    this.lastSec = sec;
    this.emit(buf, off + CAP_HEADER_SIZE, caplen, Math.max(len, caplen), LinkType.Ethernet, 0, sec, psec,
      this.nics.decode(buf, off), this.mampids.decode(buf, off + 8));
    return total;
  }

  private fileHeader(buf: Uint8Array, dv: DataView, off: number, avail: number): StepResult {
    if (avail < 16) return -16;
    const sniff = sniffDpmiHeader(buf.subarray(off, off + 16));
    if (!sniff) {
      this.stop('not a DPMI capture file (no magic, no 0.5/0.6 header)');
      return avail;
    }
    const le = sniff.littleEndian;
    let start: number;
    let commentSize: number;
    let mpidAt: number;
    if (sniff.version === '0.7') {
      const headerOffset = dv.getUint16(off + 12, le);
      commentSize = dv.getUint16(off + 14, le);
      if (headerOffset < 16 || headerOffset > MAX_HEADER_OFFSET) {
        this.stop(`DPMI file header_offset ${headerOffset} is impossible`);
        return avail;
      }
      start = headerOffset;
      mpidAt = headerOffset >= 16 + MPID_SIZE ? 16 : -1;
    } else {
      commentSize = dv.getUint32(off, le);
      start = sniff.version === '0.6' ? HEADER_06 : HEADER_05;
      mpidAt = sniff.version === '0.6' ? 6 : 12;
    }
    const total = start + commentSize;
    if (avail < total) return -total;
    this.version = sniff.version;
    this.littleEndian = le;
    if (mpidAt >= 0) this.mpid = decodeName(buf, off + mpidAt, MPID_SIZE);
    // Trailing NULs trimmed by a scan: `/\0+$/` is quadratic on a long run of NULs (the size is the file's).
    let end = off + total;
    while (end > off + start && buf[end - 1] === 0) end--;
    this.comment = new TextDecoder('latin1').decode(buf.subarray(off + start, end));
    this.haveHeader = true;
    return total;
  }
}
