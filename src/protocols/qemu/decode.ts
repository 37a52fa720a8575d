import { PacketClock, type Picos } from '../../core/time.js';
import type { Direction, FlowInfo } from '../../decode/types.js';
import { streamAnomaly } from '../anomaly.js';
import { QemuAnomaly } from './anomaly-codes.js';
import type { Emit, GapKind } from '../types.js';
import { NEED_MORE } from './feeder.js';
import { SourceStreamDecoder, type QemuBody } from './source-decoder.js';
import { readAscii, u32 } from './bytes.js';
import { ReturnPathReader } from './return-path.js';
import { parseConfigSubsection, validFooterAt } from './records.js';
import { MAX_KEPT_PASSES, RAM_ERROR, RamItem, RamWalker } from './ram.js';
import {
  DEFAULT_TARGET_PAGE_SIZE, MAX_COMMAND, QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION, QemuCommand, QemuRecord,
} from './types.js';

const enum Mode { Magic, Record, Ram, FooterOpt, Opaque, AfterEof, Done }

/** Longest item parsed in one piece: section header with a 255-byte idstr, capability lists. */
const MAX_ITEM = 4096;
/** Largest VMDESCRIPTION JSON we accept (real ones are tens of KiB). */
const MAX_VMDESC = 64 * 1024 * 1024;

interface Section { idstr: string; isRam: boolean }

/**
 * Walks one QEMU migration stream (source → destination) record by record. Page data
 * is skipped by length; device sections (whose length the stream does not encode) are
 * scanned for their footer `0x7e + section_id`, validated by a plausible next record.
 * See ./types.ts for the definitions of passes and byte counts.
 */
export class QemuStreamDecoder extends SourceStreamDecoder {
  private mode = Mode.Magic;
  private pageSize = DEFAULT_TARGET_PAGE_SIZE;
  private readonly sections = new Map<number, Section>();
  private cur: { id: number; type: number; ram: boolean; ts: Picos } = { id: 0, type: 0, ram: false, ts: 0n };
  private afterConfiguration = false;
  /** Stream offset of the current section's header. */
  private sectionAt = 0;
  private footers = true;
  private readonly ram = new RamWalker();
  private switchoverAt = -1;
  /** Stream offset where the record after SECTION_END(ram) begins. */
  private ramStopEnd = -1;
  private ramEndEos = false;
  private eofAt = -1;
  private eofTs: Picos = 0n;
  private vmdescEnd = -1;
  private ended = false;
  /** Time of the latest source bytes (a message's tsEnd): numbers, the bigint made when a message asks. */
  private readonly last = new PacketClock();
  private trailingReported = false;
  /** Post-copy: stream offsets of the MIG_CMD_PACKAGED record and of the package's end. */
  private postcopyAt = -1;
  private packageEnd = -1;
  /** The return path (destination → source): page requests and their latency. */
  private readonly returnPath = new ReturnPathReader();
  /** Payload bytes the capture's snaplen cut; >0: records can no longer be followed, bytes are counted. */
  private cutBytes = 0;

  constructor(flow: FlowInfo, emit: Emit) {
    super(flow, emit, MAX_ITEM);
  }

  heldBytes(): number {
    return this.ram.passBytes.length * 8 + this.sections.size * 100 + this.returnPath.heldBytes;
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    if (dir === 's2c') { this.returnPathData(bytes, ts); return; }
    if (!this.walkable(dir, bytes)) return;
    this.last.setTs(ts);
    if (this.cutBytes > 0) { this.feeder.offset += bytes.length; return; }
    this.walk(bytes, ts, QemuAnomaly.ITEM_TOO_LARGE, { limit: MAX_ITEM });
    if (this.vmdescEnd >= 0 && this.feeder.offset >= this.vmdescEnd) this.finish(ts);
  }

  dataAt(dir: Direction, buf: Uint8Array, start: number, end: number, at: PacketClock): void {
    if (dir === 's2c') { this.returnPathData(buf.subarray(start, end), at.ts); return; }
    if (this.dead || end === start) return;
    this.last.copyFrom(at);
    if (this.cutBytes > 0) { this.feeder.offset += end - start; return; }
    this.walkAt(buf, start, end, at, QemuAnomaly.ITEM_TOO_LARGE, { limit: MAX_ITEM });
    if (this.vmdescEnd >= 0 && this.feeder.offset >= this.vmdescEnd) this.finish(at.ts);
  }

  gap(dir: Direction, length: number, ts: Picos, kind: GapKind = 'lost'): void {
    if (dir === 's2c') this.returnPath.lose();
    if (dir !== 'c2s' || this.dead) return;
    if (this.cutBytes > 0) {
      // Counted by sequence numbers either way (a lost part is also a tcp-hole anomaly).
      this.feeder.offset += length;
      if (kind === 'cut') this.cutBytes += length;
    } else if (this.feeder.pending === 0 && this.feeder.skip >= length) {
      // Missing bytes inside page data or JSON we skip anyway: the walk stays in sync.
      this.feeder.skip -= length;
      this.feeder.offset += length;
      if (this.vmdescEnd >= 0 && this.feeder.offset >= this.vmdescEnd) this.finish(ts);
    } else if (this.feeder.pending === 0 && this.feeder.skip === 0 && this.mode === Mode.Opaque) {
      this.feeder.offset += length; // device state is scanned, not walked
    } else if (kind === 'cut') {
      // The bytes were sent (the capture kept only each packet's head): from here the
      // stream is counted by TCP sequence numbers; passes and switch-over are unknown.
      this.cutBytes = length;
      this.feeder.offset += this.feeder.pending + length; // the carried head of a record counts too
      this.out({ kind: 'payload-cut', streamBytes: this.feeder.offset }, ts);
    } else {
      this.fail(QemuAnomaly.GAP_IN_RECORD, ts, { length });
    }
  }

  end(dir: Direction, ts: Picos): void {
    if (dir !== 'c2s' || this.dead || this.ended) return;
    if (this.cutBytes > 0) {
      this.ended = true;
      this.out({ kind: 'cut-end', streamBytes: this.feeder.offset, cutBytes: this.cutBytes }, ts);
    } else if (this.eofAt >= 0 && this.feeder.skip === 0) this.finish(ts);
    else if (this.mode !== Mode.Magic) this.cut(ts);
  }

  /** Stream bytes consumed so far (for tests and statistics). */
  get streamBytes(): number {
    return this.feeder.offset;
  }

  /** RAM records (one per page) make a bigint only for a message; the rest, rarer, take one. */
  protected override stepAt(b: Uint8Array, p: number, end: number, at: PacketClock): number {
    return this.mode === Mode.Ram ? this.ramStep(b, p, end, at) : this.step(b, p, end, at.ts);
  }

  /** One RAM record; `at` is the time (a clock on the hot path, a bigint from step()). */
  private ramStep(b: Uint8Array, p: number, end: number, at: PacketClock | Picos): number {
    const r = this.ram.step(b, p, end, this.pageSize);
    if (r === NEED_MORE) return NEED_MORE;
    if (r === RAM_ERROR) return this.fail(this.ram.problem.def, tsOf(at), this.ram.problem.fields);
    let run = 0;
    if (this.ram.item === RamItem.Page) {
      if (this.postcopyAt >= 0) {
        // Post-copy: pages the destination asked for come first, out of order; no
        // passes. A requested page's arrival gives the request's latency.
        this.returnPath.pageArrived(this.ram.addr, tsOf(at));
        if (this.cur.type !== QemuRecord.SectionPart && this.cur.type !== QemuRecord.SectionEnd) {
          return this.fail(QemuAnomaly.PAGE_OUTSIDE_SECTION, tsOf(at));
        }
      } else if (this.cur.type === QemuRecord.SectionPart) {
        const it = this.ram.notePosition(this.ram.block, this.ram.addr, this.feeder.offset, this.sectionAt);
        if (it > 0 && it <= MAX_KEPT_PASSES) this.out({ kind: 'pass-started', iteration: it, streamBytes: this.feeder.offset + r }, tsOf(at));
        else if (it === MAX_KEPT_PASSES + 1) {
          this.emit(streamAnomaly(this.flow, 'c2s', QemuAnomaly.PASSES_NOT_KEPT, tsOf(at), { limit: MAX_KEPT_PASSES }));
        }
        run = this.ram.pageRun(b, p + r, end, this.pageSize);
      } else if (this.cur.type !== QemuRecord.SectionEnd) {
        return this.fail(QemuAnomaly.PAGE_OUTSIDE_SECTION, tsOf(at));
      }
      this.feeder.skip = this.ram.payload;
    } else if (this.ram.item === RamItem.Eos) {
      if (this.cur.type === QemuRecord.SectionPart) this.ramChunk(this.feeder.offset + r, tsOf(at));
      if (this.cur.type === QemuRecord.SectionEnd) this.ramEndEos = true;
      this.ram.chunkPages = 0;
      this.mode = Mode.FooterOpt;
    }
    return r + run;
  }

  protected step(b: Uint8Array, p: number, end: number, ts: Picos): number {
    switch (this.mode) {
      case Mode.Magic: {
        if (end - p < 8) return NEED_MORE;
        const magic = u32(b, p);
        const version = u32(b, p + 4);
        if (magic !== QEMU_VM_FILE_MAGIC) return this.fail(QemuAnomaly.BAD_MAGIC, ts, { magic });
        if (version !== QEMU_VM_FILE_VERSION) return this.fail(QemuAnomaly.BAD_VERSION, ts, { version });
        this.mode = Mode.Record;
        this.out({ kind: 'header', version, streamBytes: 8 }, ts);
        return 8;
      }
      case Mode.Record: return this.record(b, p, end, ts);
      case Mode.Ram: return this.ramStep(b, p, end, ts);
      case Mode.FooterOpt: {
        if (end - p < 1) return NEED_MORE;
        if (b[p] !== QemuRecord.SectionFooter) { this.footers = false; this.mode = Mode.Record; return 0; }
        if (end - p < 5) return NEED_MORE;
        if (u32(b, p + 1) !== this.cur.id) return this.fail(QemuAnomaly.FOOTER_MISMATCH, ts, { footer: u32(b, p + 1), section: this.cur.id });
        this.mode = Mode.Record;
        return 5;
      }
      case Mode.Opaque: {
        if (!this.footers) return this.fail(QemuAnomaly.DEVICE_SECTION_WITHOUT_FOOTERS, ts);
        const i = b.indexOf(QemuRecord.SectionFooter, p);
        if (i < 0 || i >= end) return end - p;
        if (i > p) return i - p;
        const v = validFooterAt(b, p, end, this.cur.id, this.sections);
        if (v === 'need') return NEED_MORE;
        if (v === 'no') return 1;
        this.mode = Mode.Record;
        return 5;
      }
      case Mode.AfterEof: {
        if (b[p] !== QemuRecord.VmDescription) return this.fail(QemuAnomaly.RECORD_AFTER_EOF, ts, { recordType: b[p]! });
        return this.record(b, p, end, ts);
      }
      case Mode.Done: {
        if (!this.trailingReported) {
          this.trailingReported = true;
          this.emit(streamAnomaly(this.flow, 'c2s', QemuAnomaly.TRAILING_BYTES, ts));
        }
        return end - p;
      }
    }
  }

  private record(b: Uint8Array, p: number, end: number, ts: Picos): number {
    const t = b[p]!;
    if (this.ramEndEos && this.ramStopEnd < 0) this.ramStopEnd = this.feeder.offset;
    const wasConfig = this.afterConfiguration;
    this.afterConfiguration = false;
    switch (t) {
      case QemuRecord.Eof:
        this.eofAt = this.feeder.offset;
        this.eofTs = ts;
        this.mode = Mode.AfterEof;
        if (this.postcopyAt >= 0) {
          // A post-copy stream ends at EOF (savevm.c complete_postcopy: no VMDESCRIPTION).
          this.feeder.offset += 1;
          this.finish(ts);
          this.feeder.offset -= 1;
          this.mode = Mode.Done;
        }
        return 1;
      case QemuRecord.SectionStart:
      case QemuRecord.SectionFull: {
        if (end - p < 6) return NEED_MORE;
        const id = u32(b, p + 1);
        const len = b[p + 5]!;
        if (end - p < 14 + len) return NEED_MORE;
        const idstr = readAscii(b, p + 6, len);
        if (idstr === undefined) return this.fail(QemuAnomaly.BAD_SECTION_NAME, ts, { section: id });
        const isRam = idstr === 'ram';
        if (!this.sections.has(id) && this.sections.size >= 4096) return this.fail(QemuAnomaly.TOO_MANY_SECTIONS, ts, { limit: 4096 });
        this.sections.set(id, { idstr, isRam });
        this.enter(id, t, isRam, ts);
        if (t === QemuRecord.SectionFull) {
          this.out({ kind: 'device-section', idstr, streamBytes: this.feeder.offset + 14 + len }, ts);
        }
        return 14 + len;
      }
      case QemuRecord.SectionPart:
      case QemuRecord.SectionEnd: {
        if (end - p < 5) return NEED_MORE;
        const id = u32(b, p + 1);
        const sec = this.sections.get(id);
        if (!sec) return this.fail(QemuAnomaly.UNKNOWN_SECTION, ts, { section: id });
        if (t === QemuRecord.SectionEnd && sec.isRam && this.switchoverAt < 0) {
          this.switchoverAt = this.feeder.offset;
          this.out({
            kind: 'switchover', iterations: this.ram.iteration, precopyBytes: this.switchoverAt,
            mechanism: 'stop-and-copy', streamBytes: this.feeder.offset + 5,
          }, ts);
          this.ram.startStopCopyPass(this.feeder.offset);
        }
        this.enter(id, t, sec.isRam, ts);
        return 5;
      }
      case QemuRecord.Configuration: {
        if (end - p < 5) return NEED_MORE;
        const len = u32(b, p + 1);
        if (len > 256) return this.fail(QemuAnomaly.MACHINE_TYPE_TOO_LONG, ts, { length: len });
        if (end - p < 5 + len) return NEED_MORE;
        this.afterConfiguration = true;
        return 5 + len;
      }
      case QemuRecord.Subsection: {
        if (!wasConfig) return this.fail(QemuAnomaly.SUBSECTION_OUTSIDE_SECTION, ts);
        const r = parseConfigSubsection(b, p, end);
        if (r === 'need') { this.afterConfiguration = true; return NEED_MORE; }
        if ('def' in r) return this.fail(r.def, ts, r.fields);
        if (r.pageBits !== undefined) this.pageSize = 2 ** r.pageBits;
        this.afterConfiguration = true;
        return r.consumed;
      }
      case QemuRecord.VmDescription: {
        if (end - p < 5) return NEED_MORE;
        const len = u32(b, p + 1);
        if (len > MAX_VMDESC) return this.fail(QemuAnomaly.VMDESC_TOO_LARGE, ts, { length: len });
        this.vmdescEnd = this.feeder.offset + 5 + len;
        this.feeder.skip = len;
        this.mode = Mode.Done;
        return 5;
      }
      case QemuRecord.Command: {
        if (end - p < 5) return NEED_MORE;
        const cmd = (b[p + 1]! << 8) | b[p + 2]!;
        const len = (b[p + 3]! << 8) | b[p + 4]!;
        if (cmd === 0 || cmd > MAX_COMMAND) return this.fail(QemuAnomaly.UNKNOWN_COMMAND, ts, { command: cmd });
        if (cmd === QemuCommand.Packaged) {
          // Post-copy begins: the VM paused; its device state, LISTEN, PING and RUN go in
          // one package (u32 length), walked as records; RAM then continues on demand.
          if (len !== 4) return this.fail(QemuAnomaly.BAD_PACKAGE, ts, { length: len });
          if (end - p < 9) return NEED_MORE;
          if (this.postcopyAt < 0 && this.switchoverAt < 0) {
            this.postcopyAt = this.switchoverAt = this.feeder.offset;
            this.packageEnd = this.feeder.offset + 9 + u32(b, p + 5);
            this.out({
              kind: 'switchover', iterations: this.ram.iteration, precopyBytes: this.postcopyAt,
              mechanism: 'postcopy', streamBytes: this.feeder.offset + 9,
            }, ts);
            this.ram.startStopCopyPass(this.feeder.offset);
          }
          return 9;
        }
        this.feeder.skip = len;
        return 5;
      }
      default:
        return this.fail(QemuAnomaly.UNKNOWN_RECORD, ts, { recordType: t, offset: this.feeder.offset });
    }
  }

  private enter(id: number, type: number, isRam: boolean, ts: Picos): void {
    const c = this.cur; // updated in place: one section header every few packets
    c.id = id; c.type = type; c.ram = isRam; c.ts = ts;
    this.sectionAt = this.feeder.offset;
    this.mode = isRam ? Mode.Ram : Mode.Opaque;
  }

  private finish(ts: Picos): void {
    if (this.ended) return;
    this.ended = true;
    const total = this.feeder.offset;
    if (this.ramStopEnd >= 0) this.ram.closePass(this.ramStopEnd);
    const stopFrom = this.switchoverAt >= 0 ? this.switchoverAt : total;
    const postcopy = this.postcopyAt >= 0;
    const latency = this.returnPath.latency();
    this.out({
      kind: 'eof', iterations: this.ram.iteration, precopyBytes: stopFrom,
      stopCopyBytes: total - stopFrom, passBytes: this.ram.passBytes.slice(), streamBytes: total,
      ...(postcopy ? {
        postcopyBytes: total - this.packageEnd,
        ...(latency !== undefined ? { requestLatency: latency } : {}),
      }
        : { ramStopCopyBytes: this.ramStopEnd >= 0 ? this.ramStopEnd - stopFrom : total - stopFrom }),
      ...this.ram.pageCounts(),
    }, this.eofTs, ts);
  }

  private returnPathData(b: Uint8Array, ts: Picos): void {
    this.returnPath.data(b, ts, (r) => this.out({ kind: 'page-request', bytes: r.bytes, streamBytes: r.returnedBytes }, ts, ts));
  }

  /**
   * The stream closed before QEMU_VM_EOF (a cancelled or failed migration): what it got
   * through, so that the migration still reports its bytes and passes. Not an anomaly:
   * the outcome says how it ended. Bytes held in the carry (an item cut in half) count.
   */
  private cut(ts: Picos): void {
    if (this.ended) return;
    this.ended = true;
    const total = this.feeder.offset + this.feeder.pending;
    this.ram.closePass(total);
    const stopFrom = this.switchoverAt >= 0 ? this.switchoverAt : total;
    this.out({
      kind: 'cut', iterations: this.ram.iteration, precopyBytes: stopFrom, stopCopyBytes: total - stopFrom,
      passBytes: this.ram.passBytes.slice(), streamBytes: total,
      ...this.ram.pageCounts(),
    }, ts, ts);
  }

  /**
   * One message per RAM chunk (every few packets of a pre-copy stream): built as one
   * literal because the generic `out` spread costs ~5 µs a message on this path (V8's
   * object-spread clone of a fresh literal), a quarter of the pure-TS pipeline's time.
   */
  private ramChunk(after: number, ts: Picos): void {
    const msg: QemuRamChunk = {
      kind: 'ram-chunk', iteration: this.ram.iteration, pages: this.ram.chunkPages,
      passBytes: this.ram.iteration > 0 ? after - this.ram.passStart : 0, streamBytes: after,
      protocol: 'qemu', ts: this.cur.ts, tsEnd: ts, flowId: this.flow.id, src: this.src, dst: this.dst,
    };
    this.emit(msg);
  }

  /** A message ends, unless told otherwise, at the latest segment seen. */
  protected override out(m: QemuBody, ts: Picos, tsEnd: Picos = maxTs(this.last.ts, ts)): void {
    super.out(m, ts, tsEnd);
  }
}

type QemuRamChunk = import('../types.js').QemuRamChunk;

function maxTs(a: Picos, b: Picos): Picos {
  return a > b ? a : b;
}

function tsOf(at: PacketClock | Picos): Picos {
  return typeof at === 'bigint' ? at : at.ts;
}
