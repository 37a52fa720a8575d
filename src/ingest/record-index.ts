import { loadNative } from './live/native.js';
import { mapCaptureFile, type MappedFile } from './mapped-file.js';
import { PCAP_FILE_HEADER, PCAP_MAGIC_MODIFIED, PCAP_MAGICS } from './formats/pcap-reader.js';
import { PCAP_MAGIC_NS } from './formats/pcap-writer.js';

/**
 * One file worker's view of a pcap file (`analyze --workers N FILE`): the addon walks
 * the record headers of a window of the file's mapping (native/record_index.cc) and
 * lists, as numbers in one Float64Array, only the packets this worker owns (the same
 * choice as FlowSplitter, made in C++) plus the packet at which the Dissector's next
 * housekeeping is due. The worker then touches nothing of the other workers' packets:
 * no read() copy, no object, no per-packet call for them.
 *
 * The walk takes only records the JS PcapReader takes without doubt; at the first other
 * one (damage, a cut record at the end, a DPMI measurement frame to unpack) it hands
 * over: `resumeAt` says where the JS reader goes on, with the same state, so a damaged
 * file is counted exactly as on one thread. Files other than pcap are not indexed.
 */

import { ENTRY_STRIDE } from './record-entry.js';

export { ENTRY, ENTRY_STRIDE } from './record-entry.js';

/** Why a walk call returned (native `Stop`). */
const STOP_FULL = 0;
const STOP_HOUSEKEEPING = 1;
const STOP_WINDOW = 2;
const STOP_END = 3;
const STOP_HANDOVER = 4;
// cfg / state slots (native `Cfg`, `State`).
const C_NEXT_HK_SEC = 7, C_NEXT_HK_PSEC = 8, C_WINDOW_START = 9, C_SIZE = 13;
const S_POS = 0, S_SEQ = 1, S_LAST_SEC = 2, S_LAST_PKT_SEC = 3, S_LAST_PKT_PSEC = 4, S_PACKETS = 5, S_BYTES = 6, S_STOP = 7;

/**
 * Bytes of one window: as large as a Uint8Array may be (2^32 in Node 20), so that a
 * file up to 4 GiB is one window. V8 counts every external ArrayBuffer's length as
 * external memory and starts major collections when it grows: 64 MiB windows made the
 * workers' GC cost 4× a 665 MB file's, for memory that is only the page cache.
 */
const WINDOW_BYTES = 2 ** 32 - (1 << 20);
/** Bytes walked between two releases of the pages behind the walk (resident memory stays flat). */
const RELEASE_STRIDE = 32 << 20;
/** Bytes one walk call covers at most (native `kMaxSpan`): a share with few packets comes back as often. */
const MAX_SPAN = 8 << 20;
/** PcapReader's caplen limits. */
const MAX_RECORD = 1 << 20;
const MIN_SNAPLEN_LIMIT = 262_144;

interface IndexAddon {
  indexPcapRecords(window: Uint8Array, cfg: Float64Array, state: Float64Array, out: Float64Array): number;
  flowOwner(bytes: Uint8Array, start: number, end: number, wireLength: number, linkType: number, workers: number): number;
}

function addon(): IndexAddon | undefined {
  try {
    const a = loadNative() as unknown as Partial<IndexAddon>;
    return typeof a.indexPcapRecords === 'function' ? (a as IndexAddon) : undefined;
  } catch {
    return undefined;
  }
}

/** FlowSplitter.owner as the addon computes it (tests compare the two). */
export function nativeFlowOwner(b: Uint8Array, start: number, end: number, wireLength: number, linkType: number, workers: number): number | undefined {
  return addon()?.flowOwner(b, start, end, wireLength, linkType, workers);
}

export class PcapRecordIndex {
  /** Listed packets of the last walk() (ENTRY_STRIDE numbers each); `off` is into `window`. */
  readonly out: Float64Array;
  readonly linkType: number;
  /** The bytes the listed packets' offsets point into. */
  window: Uint8Array;
  private readonly cfg = new Float64Array(C_SIZE);
  private readonly state = new Float64Array(8);
  private released = 0;

  private constructor(private readonly native: IndexAddon, private readonly file: MappedFile, head: DataView, workers: number, index: number, capacity: number, unpackDpmi: boolean) {
    const magicLe = head.getUint32(0, true);
    const le = PCAP_MAGICS.includes(magicLe);
    const magic = head.getUint32(0, le);
    const snaplen = head.getUint32(16, le);
    this.linkType = head.getUint32(20, le) & 0xffff;
    this.cfg.set([workers, index, le ? 1 : 0, magic === PCAP_MAGIC_NS ? 1 : 0, magic === PCAP_MAGIC_MODIFIED ? 24 : 16, this.linkType,
      Math.min(Math.max(snaplen, MIN_SNAPLEN_LIMIT), MAX_RECORD), Number.NEGATIVE_INFINITY, 0, 0, file.size, unpackDpmi ? 1 : 0, MAX_SPAN]);
    this.state.set([PCAP_FILE_HEADER, 0, -1, 0, 0, 0, 0, STOP_FULL]);
    this.out = new Float64Array(capacity * ENTRY_STRIDE);
    this.window = file.window(0, Math.min(WINDOW_BYTES, file.size));
  }

  /**
   * The index of `path` for worker `index` of `workers`, or undefined when the addon,
   * the mapping or the format (not pcap: pcapng, DPMI, gzip, a pipe) rules it out.
   */
  static open(path: string, workers: number, index: number, opts: { capacity?: number; unpackDpmi?: boolean } = {}): PcapRecordIndex | undefined {
    const native = addon();
    if (native === undefined) return undefined;
    const file = mapCaptureFile(path);
    if (file === undefined) return undefined;
    if (file.size < PCAP_FILE_HEADER) { file.close(); return undefined; }
    const head = file.window(0, PCAP_FILE_HEADER);
    const dv = new DataView(head.buffer, head.byteOffset, PCAP_FILE_HEADER);
    if (!PCAP_MAGICS.includes(dv.getUint32(0, true)) && !PCAP_MAGICS.includes(dv.getUint32(0, false))) { file.close(); return undefined; }
    return new PcapRecordIndex(native, file, dv, workers, index, opts.capacity ?? 4096, opts.unpackDpmi ?? true);
  }

  /**
   * Walks on and lists this worker's next packets, stopping after the first packet (of
   * any worker) at or after the housekeeping time (sec, psec): that one is listed last
   * with `own` 0 or 1. Returns the number listed; 0 once `done`.
   */
  walk(nextHkSec: number, nextHkPsec: number): number {
    const cfg = this.cfg, st = this.state;
    cfg[C_NEXT_HK_SEC] = nextHkSec;
    cfg[C_NEXT_HK_PSEC] = nextHkPsec;
    // The caller is done with the packets listed before: their pages may go.
    if (st[S_POS]! - this.released >= RELEASE_STRIDE) this.releaseBehind();
    for (;;) {
      const stop = st[S_STOP];
      if (stop === STOP_END || stop === STOP_HANDOVER) return 0;
      if (stop === STOP_WINDOW) this.moveWindow();
      const n = this.native.indexPcapRecords(this.window, cfg, st, this.out);
      if (n > 0 || st[S_STOP] !== STOP_WINDOW) return n;
    }
  }

  /** The walk is over: the end of the file, or a record the JS reader must take (`handover`). */
  get done(): boolean {
    return this.state[S_STOP] === STOP_END || this.state[S_STOP] === STOP_HANDOVER;
  }

  /** The last walk stopped at a housekeeping time (its last entry is that packet). */
  get atHousekeeping(): boolean {
    return this.state[S_STOP] === STOP_HOUSEKEEPING;
  }

  get handover(): boolean {
    return this.state[S_STOP] === STOP_HANDOVER;
  }

  /** Where and with what state PcapReader resumes after a handover. */
  get resumeAt(): { offset: number; lastSec: number } {
    return { offset: this.state[S_POS]!, lastSec: this.state[S_LAST_SEC]! };
  }

  /** Packets walked so far (all workers'): the next packet's index in the file. */
  get nextSeq(): number {
    return this.state[S_SEQ]!;
  }

  /** Captured bytes of the packets walked. */
  get bytes(): number {
    return this.state[S_BYTES]!;
  }

  get packets(): number {
    return this.state[S_PACKETS]!;
  }

  /** Time of the last packet walked (seconds, picoseconds). */
  get lastSec(): number {
    return this.state[S_LAST_PKT_SEC]!;
  }

  get lastPsec(): number {
    return this.state[S_LAST_PKT_PSEC]!;
  }

  private releaseBehind(): void {
    const pos = this.state[S_POS]!;
    if (pos > this.released) {
      this.file.release(this.released, pos - this.released);
      this.released = pos;
    }
  }

  close(): void {
    this.file.close();
  }

  /** Maps the next window from the walk's position; the pages behind it leave the process. */
  private moveWindow(): void {
    const pos = this.state[S_POS]!;
    this.releaseBehind();
    this.window = this.file.window(pos, Math.min(WINDOW_BYTES, this.file.size - pos));
    this.cfg[C_WINDOW_START] = pos;
  }
}

