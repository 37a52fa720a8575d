import { parentPort, workerData } from 'node:worker_threads';
import { openCapture, type CaptureFile } from '../../ingest/file-source.js';
import { ENTRY, ENTRY_STRIDE, PcapRecordIndex } from '../../ingest/record-index.js';
import type { ReaderStats } from '../../ingest/types.js';
import { fromSecPsec, type Picos } from '../../core/time.js';
import { Dissector } from '../../dissect/dissector.js';
import { WorkerOutput } from './worker-output.js';
import { mustWait } from './flow-control.js';
import { FlowSplitter } from './flow-split.js';
import { FLUSH_KEY, type FileDoneFromWorker, type FileWorkerData } from './protocol.js';

/**
 * One of N workers analysing a capture file together, each decoding only the packets
 * of its own flows (FlowSplitter): no thread hands packets to another, so none is
 * copied. Messages are tagged with the packet's index in the file, which all workers
 * count alike, and merged back into file order on the main thread exactly as for the
 * live ring path. Housekeeping (flow expiry, anomaly flushes) runs in every worker at
 * the packet where one Dissector over the whole file would run it, keyed just before
 * that packet.
 *
 * A pcap file is walked by the addon (src/ingest/record-index.ts): the worker's JS sees
 * only its own packets and the housekeeping points, as offsets into the file's mapping.
 * Other files (pcapng, DPMI, gzip, pipes), and a pcap file from its first doubtful
 * record on, go through the JS reader, every worker reading every packet.
 */
const cfg = workerData as FileWorkerData;
const port = parentPort;
if (port === null) throw new Error('file-worker must run in a worker thread');

const out = new WorkerOutput(port, cfg.index, cfg.workers, cfg.flow);
const dissector = new Dissector(out.emit, cfg.limits);
/** Index in the file of the last packet walked (all workers'). */
let seq = -1;
let packets = 0;
let bytes = 0;
let lastPosted = 0;
let waits = 0, waited = 0;
/** Time of the last packet walked: the time every worker ends its flows at. */
let lastTs: Picos = 0n;

/** Posts every few thousand packets: the merger needs the watermark even from a worker whose flows are quiet. */
function maybePost(): void {
  if (out.pending >= cfg.batchMessages || seq - lastPosted >= cfg.postEveryPackets) {
    out.post(seq, lastTs);
    lastPosted = seq;
  }
}

/** The native walk: only this worker's packets and the housekeeping points reach JS. */
function runIndexed(index: PcapRecordIndex): void {
  const e = index.out;
  const linkType = index.linkType;
  while (!index.done) {
    // The main thread cannot take more (its output is blocked): walk on later.
    const w0 = performance.now();
    while (mustWait(cfg.flow, cfg.index, 100)) waits++;
    waited += performance.now() - w0;
    const n = index.walk(dissector.nextHousekeepingSec, dissector.nextHousekeepingPsec);
    const b = index.window;
    for (let i = 0, at = 0; i < n; i++, at += ENTRY_STRIDE) {
      const s = e[at + ENTRY.seq]!, sec = e[at + ENTRY.sec]!, psec = e[at + ENTRY.psec]!;
      if (i === n - 1 && index.atHousekeeping) {
        out.key = s - 0.5;
        dissector.passedAt(sec, psec);
        if (e[at + ENTRY.own] === 0) continue;
      }
      const off = e[at + ENTRY.off]!, len = e[at + ENTRY.len]!;
      out.key = s;
      packets++;
      bytes += len;
      dissector.recordAt(b, off, off + len, e[at + ENTRY.wire]!, linkType, sec, psec);
    }
    seq = index.nextSeq - 1;
    if (seq >= 0) lastTs = fromSecPsec(index.lastSec, index.lastPsec);
    maybePost();
  }
}

/** The JS reader: every packet of the file, this worker's decoded, the others passed. */
async function runReader(capture: CaptureFile): Promise<void> {
  const splitter = new FlowSplitter(cfg.workers);
  for await (const b of capture.packetBatches()) {
    while (mustWait(cfg.flow, cfg.index, 100));
    for (let i = 0; i < b.length; i++) {
      seq++;
      const off = b.off[i]!;
      const end = off + b.len[i]!;
      const buf = b.buf[i]!;
      const sec = b.sec[i]!, psec = b.psec[i]!;
      out.key = seq - 0.5;
      dissector.passedAt(sec, psec);
      if (splitter.owner(buf, off, end, b.wire[i]!, b.linkType[i]!) !== cfg.index) continue;
      out.key = seq;
      packets++;
      bytes += b.len[i]!;
      dissector.recordAt(buf, off, end, b.wire[i]!, b.linkType[i]!, sec, psec);
    }
    if (b.length > 0) lastTs = b.ts(b.length - 1);
    maybePost();
  }
}

const index = cfg.walk === 'reader' ? undefined : PcapRecordIndex.open(cfg.path, cfg.workers, cfg.index);
let reader: CaptureFile | undefined;
if (index !== undefined) {
  try {
    runIndexed(index);
  } finally {
    index.close();
  }
  if (index.handover) reader = await openCapture(cfg.path, { resume: index.resumeAt });
} else {
  reader = await openCapture(cfg.path, cfg.map !== undefined ? { map: cfg.map } : {});
}
if (reader !== undefined) await runReader(reader);
// Every worker ends its flows at the file's last packet time, as one Dissector would.
out.key = FLUSH_KEY;
dissector.finish(lastTs);
out.post(FLUSH_KEY, lastTs);
const done: FileDoneFromWorker = {
  type: 'file-done', worker: cfg.index, packets, bytes, messages: out.messages,
  format: 'pcap', reader: readerStats(index, reader),
  ...(reader?.problem !== undefined ? { problem: reader.problem } : {}),
};
if (reader !== undefined) done.format = reader.format;
port.postMessage(done);

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
if (process.env.FS_DEBUG_CPU) {
  const f = (await import('node:fs')).readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
  console.error(`worker ${cfg.index} utime ${Number(f[11]) * 10} ms stime ${Number(f[12]) * 10} ms packets ${packets} waits ${waits} waited ${waited.toFixed(0)} ms end ${performance.now().toFixed(0)}`);
}
