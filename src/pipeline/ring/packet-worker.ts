import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { fromSecPsec } from '../../core/time.js';
import { PacketRingReader, RingWait } from '../../ingest/live/packet-ring.js';
import { WorkerOutput } from './worker-output.js';
import { createPacketDecoder } from './packet-decoder.js';
import { mustWait } from './flow-control.js';
import { warmUpDissector } from './warm-up.js';
import { DpmiUnpacker } from '../../ingest/dpmi/frames.js';
import { FlowSplitter } from './flow-split.js';
import { DPMI_COUNTS, FLUSH_KEY, NO_RING, type DoneFromWorker, type PacketWorkerData, type ReadyFromWorker, type WorkerCounters } from './protocol.js';

/**
 * One live decode worker: owns one AF_PACKET socket of the fanout group (so a fixed set
 * of flows: the kernel's flow hash is symmetric) and decodes the packets in place in its
 * mapped ring, block by block, handing each block back to the kernel once decoded.
 * Messages are keyed by the packet's kernel time stamp and leave as soon as a block is
 * drained; the main thread merges the workers back into time order.
 *
 * dpmi-iface: the kernel's hash puts every measurement frame on one socket, so all
 * workers read that socket's ring instead, each unpacking every frame in place (record
 * offsets, no copy) and decoding the records of its own flows, as the file workers do;
 * keys are record numbers, the same in every worker.
 */
const cfg = workerData as PacketWorkerData;
const port = parentPort;
if (port === null) throw new Error('packet-worker must run in a worker thread');

if (cfg.warmUp) warmUpDissector();
const ready: ReadyFromWorker = { type: 'ready', worker: cfg.index };
port.postMessage(ready); // the main thread opens the capture once every worker is ready
while (Atomics.load(cfg.ringIds, cfg.index) === 0) Atomics.wait(cfg.ringIds, cfg.index, 0, 1000);
const ringId = Atomics.load(cfg.ringIds, cfg.index);

const counters: WorkerCounters = { packets: 0, bytes: 0, byteSum: 0, weightedSum: 0, messages: 0, wraps: 0 };
const out = new WorkerOutput(port, cfg.index, cfg.workers, cfg.flow, cfg.traceLatency);
const decoder = createPacketDecoder(cfg.decoder, out.emit, cfg.limits);
const baseSec = cfg.baseSec;
const at = 2 * cfg.index;

/** Promise to the merge: no message with a key ≤ this will come from this worker. */
let watermark = -1;
let lastKey = -1;
/** The last packet's time (seconds, picoseconds): a BigInt only when a batch or the end needs it. */
let lastSec = 0;
let lastPsec = 0;
let lastPost = performance.now();

function post(): void {
  Atomics.store(cfg.want, cfg.index, 0); // a request after this is answered by a later post
  cfg.counts[at] = counters.packets;
  cfg.counts[at + 1] = counters.bytes;
  out.post(watermark, fromSecPsec(lastSec, lastPsec));
  lastPost = performance.now();
}

/**
 * An idle worker promises nothing older than its clock once the kernel's current block
 * is empty (less the slack for a packet stamped just before it was queued). While that
 * block holds packets it retires within its timeout; only a block left stale by a ring
 * that was full can keep that up, and after STALE_MS the clock minus STALE_MS is taken.
 */
const STALE_MS = 50;
/** An idle worker still posts its watermark this often (stats, and the merge of quiet workers). */
const IDLE_POST_MS = 10;

/** dpmi-iface: each record in place, numbered; housekeeping at every record, decoding of ours. */
function dpmiSink(): (u8: Uint8Array, off: number, len: number, wireLength: number, sec: number, nsec: number) => void {
  const splitter = new FlowSplitter(cfg.workers);
  let seq = -1;
  const unpacker = new DpmiUnpacker((b, off, len, wireLength, linkType, _iface, sec, psec) => {
    seq++;
    lastSec = sec;
    lastPsec = psec; // DPMI's picoseconds, whole
    lastKey = seq;
    out.key = seq - 0.5;
    decoder.passedAt(sec, psec);
    if (splitter.owner(b, off, off + len, wireLength, linkType) !== cfg.index) return;
    out.key = seq;
    counters.packets++;
    counters.bytes += len;
    decoder.recordAt(b, off, off + len, wireLength, linkType, sec, psec);
  }, cfg.dpmi?.mampid !== undefined ? { mampid: cfg.dpmi.mampid } : {});
  if (cfg.index === 0) {
    const base = 2 * cfg.workers;
    publishDpmi = () => { DPMI_COUNTS.forEach((k, i) => { cfg.counts[base + i] = unpacker.stats[k]; }); };
  }
  // Frames only reach the ring through the 0x0810 filter; anything else passes the unpacker untouched and is skipped.
  return (u8, off, len, wireLength, sec, nsec) => unpacker.records(u8, off, len, wireLength, 1, 0, sec, nsec * 1000, undefined, undefined);
}
let publishDpmi = (): void => undefined;

function capture(reader: PacketRingReader): void {
  const linkType = reader.linkType;
  const timeKeys = cfg.dpmi === undefined;
  const onPacket = timeKeys ? (u8: Uint8Array, off: number, len: number, wireLength: number, sec: number, nsec: number): void => {
    // Kernel time stamps of one socket may step back a little (packets stamped on
    // different CPUs): keys never do, so the merge's order holds.
    let key = (sec - baseSec) * 1e9 + nsec;
    if (key < lastKey) key = lastKey;
    lastKey = key;
    out.key = key;
    lastSec = sec;
    lastPsec = nsec * 1000; // exact: < 10^12
    counters.packets++;
    counters.bytes += len;
    if (cfg.crashAfterPackets !== undefined && counters.packets > cfg.crashAfterPackets) {
      throw new Error(`fault injection: worker ${cfg.index} crashes after ${cfg.crashAfterPackets} packets`);
    }
    decoder.recordAt(u8, off, off + len, wireLength, linkType, sec, lastPsec);
  } : dpmiSink();
  /** Reads every block the kernel handed over; true if there was one. */
  const drainBlocks = (): boolean => {
    let any = false;
    for (let block = reader.next(); block >= 0; block = reader.next()) {
      out.reading();
      reader.walk(block, onPacket);
      any = true;
      watermark = lastKey;
      publishDpmi();
      // The block is drained: its messages leave now (no flush timer), and the
      // watermark when the merge waits for it. Posted before the block goes back, so
      // that the main thread, seeing this reader past it with no batch in flight, may
      // promise for it (CaptureBackend.idlePromise) without waking it.
      if (out.pending > 0 || Atomics.load(cfg.want, cfg.index) !== 0) post();
      reader.release();
      if (mustWait(cfg.flow, cfg.index, 0)) break;
    }
    return any;
  };
  let heldSince = -1;
  const idleWatermark = (): void => {
    const f = reader.frontier(baseSec);
    if (f === 0) return; // a block is ready
    const now = performance.now();
    let promise: number;
    if (!timeKeys) { heldSince = f > 0 ? -1 : heldSince < 0 ? now : heldSince; return; } // record numbers: the last one read
    if (f > 0) { heldSince = -1; promise = f - cfg.slackNs; }
    else {
      if (heldSince < 0) heldSince = now;
      if (now - heldSince < STALE_MS) return;
      promise = -f - STALE_MS * 1e6;
    }
    if (promise > watermark) watermark = promise;
  };

  let stopAt = -1;
  for (;;) {
    if (mustWait(cfg.flow, cfg.index, 100)) continue;
    if (drainBlocks()) continue;
    idleWatermark();
    if (stopAt >= 0) {
      // Stopped: the kernel still hands over the blocks holding packets stamped before
      // the stop (each within its retire timeout); read them, then end.
      if (heldSince < 0 || performance.now() > stopAt) break;
      reader.wait(1000);
      continue;
    }
    const asked = Atomics.load(cfg.want, cfg.index) !== 0;
    if (out.pending > 0 || (out.newWatermark(watermark) && (asked || performance.now() - lastPost >= IDLE_POST_MS))) post();
    if (reader.wait(IDLE_POST_MS * 1000) === RingWait.Stopped) stopAt = performance.now() + 200;
  }
}

if (ringId !== NO_RING) {
  const reader = new PacketRingReader(ringId, cfg.dpmi !== undefined ? cfg.index : 0);
  capture(reader);
  counters.vlanStripped = reader.vlanStripped;
}

// Every worker ends its flows at the capture's last packet time, as one Dissector would:
// publish ours, wait (bounded) for the others, take the latest.
cfg.endTs[cfg.index] = fromSecPsec(lastSec, lastPsec);
Atomics.add(cfg.endCount, 0, 1);
Atomics.notify(cfg.endCount, 0);
const endBy = performance.now() + 5000;
for (let n = Atomics.load(cfg.endCount, 0); n < cfg.workers && performance.now() < endBy; n = Atomics.load(cfg.endCount, 0)) {
  Atomics.wait(cfg.endCount, 0, n, 100);
}
let endTs = 0n;
for (const ts of cfg.endTs) if (ts > endTs) endTs = ts;
out.key = FLUSH_KEY;
decoder.finish(endTs);
watermark = FLUSH_KEY;
post();
counters.messages = out.messages;
const done: DoneFromWorker = { type: 'done', worker: cfg.index, counters };
port.postMessage(done);
