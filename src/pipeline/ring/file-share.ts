import { openCapture, type CaptureFile } from '../../ingest/file-source.js';
import { ENTRY, ENTRY_STRIDE, PcapRecordIndex } from '../../ingest/record-index.js';
import type { CaptureFormat, ReaderStats } from '../../ingest/types.js';
import { fromSecPsec, type Picos } from '../../core/time.js';
import type { Emit } from '../../protocols/types.js';
import { Dissector } from '../../dissect/dissector.js';
import type { DissectorLimits } from '../../dissect/memory-budget.js';
import { FlowSplitter } from './flow-split.js';
import { FLUSH_KEY, type FileWalk } from './protocol.js';

/** Where a share's messages go: tagged with `key` (the packet's index in the file) and handed on in batches. */
export interface ShareOutput {
  /** Key of the messages emitted next (set before each packet). */
  key: number;
  readonly emit: Emit;
  /** Messages emitted since the last post. */
  readonly pending: number;
  /** Hands on what was emitted; no key ≤ watermark follows. */
  post(watermark: number, watermarkTs: Picos): void;
}

export interface ShareOptions {
  path: string;
  workers: number;
  /** This share's number: it decodes the packets FlowSplitter gives to `index`. */
  index: number;
  walk: FileWalk;
  map?: boolean;
  limits: DissectorLimits;
  /** Post at least this many messages at once… */
  batchMessages: number;
  /** …and the watermark at least every this many packets of the file. */
  postEveryPackets: number;
}

export interface ShareResult {
  /** Packets and bytes this share decoded. */
  packets: number;
  bytes: number;
  format: CaptureFormat;
  /** The reader's view of the whole file (the same for every share). */
  reader: ReaderStats;
  problem?: string;
}

/**
 * One share of a capture file split by flows (`analyze --workers N FILE`): the packets
 * whose flows FlowSplitter gives to `index`, decoded by one Dissector, in a worker
 * thread or on the main thread. Messages are keyed by the packet's index in the file,
 * which every share counts alike, for the WatermarkMerger. Housekeeping (flow expiry,
 * anomaly flushes) runs in every share at the packet where one Dissector over the
 * whole file would run it, keyed just before that packet.
 *
 * A pcap file is walked by the addon (src/ingest/record-index.ts): the share's JS sees
 * only its own packets and the housekeeping points, as offsets into the file's mapping.
 * Other files (pcapng, DPMI, gzip, pipes), and a pcap file from its first doubtful
 * record on, go through the JS reader, every share reading every packet.
 */
export class FileShare {
  private readonly dissector: Dissector;
  /** Index in the file of the last packet walked (all shares'). */
  private seq = -1;
  private packets = 0;
  private bytes = 0;
  private lastPosted = 0;
  /** Time of the last packet walked: the time every share ends its flows at. */
  private lastTs: Picos = 0n;
  private stopped = false;

  /**
   * `pace` is called before each batch of packets: it returns a promise while the
   * consumer cannot take more (output blocked, merge holding too much of this share).
   */
  constructor(private readonly opts: ShareOptions, private readonly out: ShareOutput,
    private readonly pace: () => Promise<void> | undefined) {
    this.dissector = new Dissector(out.emit, opts.limits);
  }

  /** Decodes the share to the end of the file and ends its flows; `index` if the caller opened it. */
  async run(index = this.opts.walk === 'reader' ? undefined : PcapRecordIndex.open(this.opts.path, this.opts.workers, this.opts.index)): Promise<ShareResult> {
    const o = this.opts;
    let reader: CaptureFile | undefined;
    if (index !== undefined) {
      try {
        await this.runIndexed(index);
      } finally {
        index.close();
      }
      if (index.handover) reader = await openCapture(o.path, { resume: index.resumeAt });
    } else {
      reader = await openCapture(o.path, o.map !== undefined ? { map: o.map } : {});
    }
    if (reader !== undefined) await this.runReader(reader);
    // Every share ends its flows at the file's last packet time, as one Dissector would.
    this.out.key = FLUSH_KEY;
    this.dissector.finish(this.lastTs);
    this.out.post(FLUSH_KEY, this.lastTs);
    const result: ShareResult = {
      packets: this.packets, bytes: this.bytes, format: reader?.format ?? 'pcap', reader: readerStats(index, reader),
    };
    if (reader?.problem !== undefined) result.problem = reader.problem;
    return result;
  }

  /** Stops decoding at the next batch (the run was aborted or failed elsewhere); run() then ends. */
  stop(): void {
    this.stopped = true;
  }

  /** Posts every few thousand packets: the merge needs the watermark even from a share whose flows are quiet. */
  private maybePost(): void {
    if (this.out.pending >= this.opts.batchMessages || this.seq - this.lastPosted >= this.opts.postEveryPackets) {
      this.out.post(this.seq, this.lastTs);
      this.lastPosted = this.seq;
    }
  }

  /** The native walk: only this share's packets and the housekeeping points reach JS. */
  private async runIndexed(index: PcapRecordIndex): Promise<void> {
    const d = this.dissector, out = this.out;
    const e = index.out;
    const linkType = index.linkType;
    while (!index.done && !this.stopped) {
      const wait = this.pace();
      if (wait !== undefined) { await wait; continue; }
      const n = index.walk(d.nextHousekeepingSec, d.nextHousekeepingPsec);
      const b = index.window;
      for (let i = 0, at = 0; i < n; i++, at += ENTRY_STRIDE) {
        const s = e[at + ENTRY.seq]!;
        if (i === n - 1 && index.atHousekeeping) {
          out.key = s - 0.5;
          d.passedAt(e[at + ENTRY.sec]!, e[at + ENTRY.psec]!);
          if (e[at + ENTRY.own] === 0) continue;
        }
        out.key = s;
        this.packets++;
        this.bytes += e[at + ENTRY.len]!;
        d.recordListed(e, at, b, linkType);
      }
      this.seq = index.nextSeq - 1;
      if (this.seq >= 0) this.lastTs = fromSecPsec(index.lastSec, index.lastPsec);
      this.maybePost();
    }
  }

  /** The JS reader: every packet of the file, this share's decoded, the others passed. */
  private async runReader(capture: CaptureFile): Promise<void> {
    const d = this.dissector, out = this.out;
    const splitter = new FlowSplitter(this.opts.workers);
    const me = this.opts.index;
    for await (const b of capture.packetBatches()) {
      for (let wait = this.pace(); wait !== undefined; wait = this.pace()) await wait;
      if (this.stopped) break;
      for (let i = 0; i < b.length; i++) {
        const seq = ++this.seq;
        const off = b.off[i]!;
        const end = off + b.len[i]!;
        const buf = b.buf[i]!;
        const sec = b.sec[i]!, psec = b.psec[i]!;
        out.key = seq - 0.5;
        d.passedAt(sec, psec);
        if (splitter.owner(buf, off, end, b.wire[i]!, b.linkType[i]!) !== me) continue;
        out.key = seq;
        this.packets++;
        this.bytes += b.len[i]!;
        d.recordAt(buf, off, end, b.wire[i]!, b.linkType[i]!, sec, psec);
      }
      if (b.length > 0) this.lastTs = b.ts(b.length - 1);
      this.maybePost();
    }
  }
}

/** The whole file's reader counts: the native walk's, then the JS reader's from where it took over. */
function readerStats(ix: PcapRecordIndex | undefined, r: CaptureFile | undefined): ReaderStats {
  const js: ReaderStats = r !== undefined ? { ...r.stats } : {
    packets: 0, bytes: 0, malformedRecords: 0, truncated: false, lostFrames: 0, duplicateFrames: 0, skippedBytes: 0, timesOutOfRange: 0,
  };
  if (ix !== undefined) {
    js.packets += ix.packets;
    js.bytes += ix.bytes;
  }
  return js;
}
