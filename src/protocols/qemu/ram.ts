import type { AnomalyDef, AnomalyFields, Problem } from '../../core/anomaly.js';
import { QemuAnomaly } from './anomaly-codes.js';
import { readAscii, u32, u64 } from './bytes.js';
import { NEED_MORE } from './feeder.js';
import { RamFlag } from './types.js';

export const RAM_ERROR = -3;
/**
 * Passes whose sizes are kept. Real pre-copy converges in tens of passes; a stream whose
 * every page starts a pass (pages at descending addresses) would otherwise grow this
 * list by one number per page. Past it, passes are still counted, their bytes go to the last entry.
 */
export const MAX_KEPT_PASSES = 10_000;
export const enum RamItem { Page, Eos, Other }

/**
 * The RAM section's records (`u64 addr|flags` + what the flags say follows), and the
 * pass bookkeeping. step() reports through fields instead of returning objects: it
 * runs once per page.
 */
export class RamWalker {
  /** Kind, block index, address and payload length of the last item stepped over. */
  item = RamItem.Other;
  block = -1;
  addr = 0;
  payload = 0;
  /** Why the last step returned RAM_ERROR. */
  problem: Problem = { def: QemuAnomaly.BAD_RAMBLOCK_NAME };
  /** Current pre-copy pass (0 before the first page). */
  iteration = 0;
  passStart = 0;
  readonly passBytes: number[] = [];
  chunkPages = 0;
  /** Full pages (RAM_SAVE_FLAG_PAGE) and zero pages in the whole stream. */
  normalPages = 0;
  zeroPages = 0;
  /** XBZRLE-encoded pages and their bytes as QEMU counts them (xbzrle-cache.pages/bytes:
   *  the record less its 8-byte address word); pages compressed by compress threads and
   *  their bytes as QEMU's compression.compressed-size counts them (the same way). */
  xbzrlePages = 0;
  xbzrleBytes = 0;
  compressedPages = 0;
  compressedBytes = 0;
  private readonly blocks: string[] = [];
  private memRemaining = 0;
  private lastPosBlock = -1;
  private lastPosAddr = 0;

  /** Returns bytes consumed, NEED_MORE or RAM_ERROR (with `problem`). */
  step(b: Uint8Array, p: number, end: number, pageSize: number): number {
    this.item = RamItem.Other;
    if (this.memRemaining > 0) return this.blockEntry(b, p, end);
    if (end - p < 8) return NEED_MORE;
    const lo = u32(b, p + 4);
    const flags = lo & (pageSize - 1) & 0xfff;
    const addr = u32(b, p) * 4294967296 + (lo - flags);
    const cont = (flags & RamFlag.Continue) !== 0;
    let q = p + 8;
    switch (flags & ~RamFlag.Continue) {
      case RamFlag.MemSize:
        if (addr === 0) return 8;
        this.memRemaining = addr;
        return 8;
      case RamFlag.Eos:
        this.item = RamItem.Eos;
        return 8;
      case RamFlag.MultifdFlush:
        return 8;
      case RamFlag.Zero:
      case RamFlag.Page:
      case RamFlag.Xbzrle:
      case RamFlag.CompressPage: {
        if (!cont) {
          if (end - q < 1) return NEED_MORE;
          const len = b[q]!;
          if (end - q < 1 + len) return NEED_MORE;
          // Every section part names its first page's block, nearly always the last one:
          // recognised from the bytes, no string made.
          if (this.block < 0 || !nameAt(b, q + 1, len, this.blocks[this.block]!)) {
            const idstr = readAscii(b, q + 1, len);
            if (idstr === undefined || len === 0) return this.error(QemuAnomaly.BAD_RAMBLOCK_NAME);
            let i = this.blocks.indexOf(idstr);
            if (i < 0) {
              if (this.blocks.length >= 256) return this.error(QemuAnomaly.TOO_MANY_RAMBLOCKS, { limit: 256 });
              i = this.blocks.push(idstr) - 1;
            }
            this.block = i;
          }
          q += 1 + len;
        } else if (this.block < 0) {
          return this.error(QemuAnomaly.CONTINUE_WITHOUT_RAMBLOCK);
        }
        const kind = flags & ~RamFlag.Continue;
        if (kind === RamFlag.Zero) {
          if (end - q < 1) return NEED_MORE;
          q += 1;
          this.payload = 0;
          this.zeroPages++;
        } else if (kind === RamFlag.Page) {
          this.payload = pageSize;
          this.normalPages++;
        } else if (kind === RamFlag.Xbzrle) {
          if (end - q < 3) return NEED_MORE;
          this.payload = (b[q + 1]! << 8) | b[q + 2]!;
          q += 3;
          this.xbzrlePages++;
          this.xbzrleBytes += q - p - 8 + this.payload;
        } else {
          if (end - q < 4) return NEED_MORE;
          this.payload = u32(b, q);
          if (this.payload > 2 * pageSize + 64) return this.error(QemuAnomaly.COMPRESSED_PAGE_TOO_LARGE, { length: this.payload });
          q += 4;
          this.compressedPages++;
          this.compressedBytes += q - p - 8 + this.payload;
        }
        this.addr = addr;
        this.item = RamItem.Page;
        this.chunkPages++;
        return q - p;
      }
      default:
        return this.error(QemuAnomaly.UNSUPPORTED_RAM_FLAGS, { flags });
    }
  }

  /**
   * Pre-copy, right after a page at `start` whose `payload` bytes follow: that payload
   * and the pages behind it in b[start, end) of the same block (CONTINUE, zero or full)
   * are passed over in one loop, by header arithmetic, while their addresses do not go
   * back (a pass wrapping, any other record, or a header cut by `end` ends the run and
   * goes the per-item way). A first pass is mostly 9-byte zero pages, ~100 per segment:
   * one call per page through the feeder cost more than the rest of the packet. Returns
   * the bytes consumed from `start`; `payload` becomes what is left of the last page's
   * data past `end`. Counts and positions end as notePosition() per page would leave them.
   */
  pageRun(b: Uint8Array, start: number, end: number, pageSize: number): number {
    let q = start + this.payload;
    if (q > end) return 0;
    const mask = (pageSize - 1) & 0xfff;
    let addr = this.lastPosAddr;
    let zero = 0, full = 0, rest = 0;
    while (end - q >= 8) {
      const lo = u32(b, q + 4);
      const flags = lo & mask;
      let len: number;
      if (flags === (RamFlag.Zero | RamFlag.Continue)) len = 9;
      else if (flags === (RamFlag.Page | RamFlag.Continue)) len = 8 + pageSize;
      else break;
      const next = u32(b, q) * 4294967296 + (lo - flags);
      if (next < addr || (len === 9 && end - q < 9)) break;
      addr = next;
      if (len === 9) zero++; else full++;
      if (end - q < len) { rest = len - (end - q); q = end; break; }
      q += len;
    }
    this.zeroPages += zero;
    this.normalPages += full;
    this.chunkPages += zero + full;
    this.lastPosAddr = addr;
    if (zero + full > 0) this.addr = addr;
    this.payload = rest;
    return q - start;
  }

  /**
   * A page at (block, addr) was sent in pre-copy at stream offset `at`. Returns the new
   * iteration number when this page starts a pass (the scanner wrapped), else 0.
   */
  notePosition(block: number, addr: number, at: number, sectionAt: number): number {
    const wrapped = this.iteration === 0 || block < this.lastPosBlock
      || (block === this.lastPosBlock && addr < this.lastPosAddr);
    this.lastPosBlock = block;
    this.lastPosAddr = addr;
    if (!wrapped) return 0;
    // The pass owns the PART header when its first page is the section's first page.
    const start = this.chunkPages === 1 ? sectionAt : at;
    this.closePass(start);
    this.iteration++;
    this.passStart = start;
    return this.iteration;
  }

  /** The current pass ends at stream offset `at`. */
  closePass(at: number): void {
    if (this.iteration <= this.passBytes.length) return;
    if (this.passBytes.length < MAX_KEPT_PASSES) this.passBytes.push(at - this.passStart);
    else this.passBytes[MAX_KEPT_PASSES - 1]! += at - this.passStart;
  }

  /** SECTION_END(ram) starting at `at` is the last pass (stop-and-copy). */
  startStopCopyPass(at: number): void {
    this.closePass(at);
    this.iteration++;
    this.passStart = at;
  }

  /** The page counters of the stream's end message (xbzrle and compression only when used). */
  pageCounts(): { normalPages: number; zeroPages: number; xbzrlePages?: number; xbzrleBytes?: number; compressedPages?: number; compressedBytes?: number } {
    return {
      normalPages: this.normalPages, zeroPages: this.zeroPages,
      ...(this.xbzrlePages > 0 ? { xbzrlePages: this.xbzrlePages, xbzrleBytes: this.xbzrleBytes } : {}),
      ...(this.compressedPages > 0 ? { compressedPages: this.compressedPages, compressedBytes: this.compressedBytes } : {}),
    };
  }

  /** One MEM_SIZE list entry: `u8 len, idstr, u64 used_length`. */
  private blockEntry(b: Uint8Array, p: number, end: number): number {
    if (end - p < 1) return NEED_MORE;
    const len = b[p]!;
    if (end - p < 9 + len) return NEED_MORE;
    const idstr = readAscii(b, p + 1, len);
    if (idstr === undefined || len === 0) return this.error(QemuAnomaly.BAD_RAMBLOCK_NAME);
    const size = u64(b, p + 1 + len);
    if (size > this.memRemaining) return this.error(QemuAnomaly.RAMBLOCK_EXCEEDS_MEM_SIZE, { size });
    this.memRemaining -= size;
    if (!this.blocks.includes(idstr) && this.blocks.length < 256) this.blocks.push(idstr);
    return 9 + len;
  }

  private error(def: AnomalyDef, fields?: AnomalyFields): number {
    this.problem = fields === undefined ? { def } : { def, fields };
    return RAM_ERROR;
  }
}

/** Whether b[p, p + len) holds exactly `name` (a block name: printable ASCII, not empty). */
function nameAt(b: Uint8Array, p: number, len: number, name: string): boolean {
  if (name.length !== len) return false;
  for (let i = 0; i < len; i++) if (b[p + i] !== name.charCodeAt(i)) return false;
  return true;
}
