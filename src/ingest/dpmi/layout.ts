/**
 * DPMI byte layouts (see /work/shared/dpmi-format.md): capture header, capture file
 * header, measurement-frame sendhead. Pure helpers over DataView, no I/O.
 */
import { PS_PER_S } from '../../core/time.js';

export const CAP_HEADER_SIZE = 36;
export const FILE_MAGIC = 0x8f1ae247c53d9b6en;
/** The magic as a little-endian reader sees a big-endian file's magic. */
export const FILE_MAGIC_SWAPPED = 0x6e9b3dc547e21a8fn;
export const FILE_HEADER_SIZE_07 = 216;
export const MPID_SIZE = 200;
export const NAME_SIZE = 8;

export const ETHERTYPE_DPMI = 0x0810;
export const ETH_HEADER_SIZE = 14;
export const SENDHEAD_SIZE = 16;
/** sendhead.flags bit: the MP is flushing/terminating the stream. */
export const SENDER_FLUSH = 0x1;
/** The reference MP counts (seq + 1) mod 0xFFFF: 0xFFFE is followed by 0, 0xFFFF never sent. */
export const SEQUENCE_MODULUS = 0xffff;

export const DPMI_VERSION_MAJOR = 0;
export const DPMI_VERSION_MINOR = 7;

/** Upper bound for a plausible caplen (jumbo frames and then some); larger = corrupt. */
export const MAX_CAPLEN = 262_144;

export interface CapHeaderFields {
  sec: number;
  psec: bigint;
  len: number;
  caplen: number;
}

/** Writes a capture header at `off`: nic/mampid are pre-padded 8-byte fields. */
export function writeCapHeader(
  dv: DataView,
  bytes: Uint8Array,
  off: number,
  nic: Uint8Array,
  mampid: Uint8Array,
  ts: bigint,
  len: number,
  caplen: number,
  littleEndian: boolean,
): void {
  bytes.set(nic, off);
  bytes.set(mampid, off + 8);
  dv.setUint32(off + 16, Number(ts / PS_PER_S), littleEndian);
  dv.setBigUint64(off + 20, ts % PS_PER_S, littleEndian);
  dv.setUint32(off + 28, len, littleEndian);
  dv.setUint32(off + 32, caplen, littleEndian);
}

/**
 * Decodes NUL-padded names without allocating a new string per packet: records of one
 * stream carry the same nic/mampid, so the last decoded value is reused.
 */
export class NameCache {
  private readonly last = new Uint8Array(NAME_SIZE);
  private lastValid = false;
  private lastName = '';

  decode(bytes: Uint8Array, off: number): string {
    let same = this.lastValid;
    if (same) {
      for (let i = 0; i < NAME_SIZE; i++) {
        if (bytes[off + i] !== this.last[i]) {
          same = false;
          break;
        }
      }
    }
    if (same) return this.lastName;
    this.last.set(bytes.subarray(off, off + NAME_SIZE));
    this.lastValid = true;
    this.lastName = decodeName(bytes, off, NAME_SIZE);
    return this.lastName;
  }
}

/** NUL-terminated (or full-width) latin1 text. */
export function decodeName(bytes: Uint8Array, off: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) {
    const c = bytes[off + i]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
