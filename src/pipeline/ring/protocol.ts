import type { DissectorLimits } from '../../dissect/memory-budget.js';
import type { PackedMessages } from './batch-codec.js';
import type { CaptureFormat, ReaderStats } from '../../ingest/types.js';

/**
 * What the main thread and a decode worker say to each other. Messages travel packed
 * (./batch-codec.ts) or by structured clone (bigint-safe); raw payload never leaves
 * the worker.
 */

/** How a worker decodes: the real dissector, or test stand-ins that only count. */
export type WorkerDecoder = 'dissector' | 'count';

export interface DecodeWorkerData {
  ring: Uint8Array;
  /** Ring 0 (holds the capture's sequence frontier, for idle watermarks). */
  ring0: Uint8Array;
  index: number;
  workers: number;
  decoder: WorkerDecoder;
  /** This worker's share of --max-memory and of the flow limit (workerLimits). */
  limits: DissectorLimits;
  /** Post a batch once it holds this many messages… */
  batchMessages: number;
  /** …or this much time passed; an idle worker posts a watermark this often. */
  flushMs: number;
  /**
   * Flow control with the main thread (FLOW_* slots). The worker takes no packets from
   * its ring while the main thread's output is blocked or while MAX_BATCHES_IN_FLIGHT of
   * its batches wait in the main thread's queue: the ring fills instead of the main
   * thread's heap (a file's capture thread then waits, a live one counts ring drops).
   */
  flow: Int32Array;
  /** Fault injection for tests: throw after this many packets. */
  crashAfterPackets?: number;
  /** Stamp batches with BatchTiming. */
  traceLatency?: boolean;
}

/**
 * `keys[i]` is the capture sequence number of the packet during which `messages[i]`
 * was emitted (Number.MAX_SAFE_INTEGER for end-of-capture flushes). `watermark`: the
 * worker will never again emit a message with key ≤ watermark.
 */
export interface BatchFromWorker {
  type: 'batch';
  worker: number;
  keys: Float64Array;
  messages: PackedMessages;
  watermark: number;
  watermarkTs: bigint;
  /** Only when the run traces latency (RingPipelineOptions.onTiming). */
  timing?: BatchTiming;
}

/**
 * When a worker took the first packets of a batch from its ring and when it posted the
 * batch (wall clock, µs since the epoch, the clock live packets are stamped with).
 */
export interface BatchTiming {
  readUs: number;
  postedUs: number;
}

export interface WorkerCounters {
  packets: number;
  bytes: number;
  /** Sum of all bytes of all packets mod 2^32 (order independent), for ring tests. */
  byteSum: number;
  /** Sum of (seq + 1) * caplen mod 2^32: catches records swapped between packets. */
  weightedSum: number;
  messages: number;
  wraps: number;
  /** AF_PACKET: frames whose 802.1Q tag the kernel had taken out (decoded untagged). */
  vlanStripped?: number;
}

export interface DoneFromWorker {
  type: 'done';
  worker: number;
  counters: WorkerCounters;
}

/** An AF_PACKET worker warmed up and holds its ring: the capture may start. */
export interface ReadyFromWorker {
  type: 'ready';
  worker: number;
}

export type FromWorker = BatchFromWorker | DoneFromWorker | ReadyFromWorker;

/** A worker of a capture file split by flows (./file-worker.ts). */
/** How a file worker goes through the file (see file-worker.ts). */
export type FileWalk = 'native' | 'reader';

export interface FileWorkerData {
  path: string;
  index: number;
  workers: number;
  /** Read in place from a mapping (undefined: openCapture's default). */
  map?: boolean;
  /** 'native' (default): a pcap file's records are walked by the addon; 'reader': the JS reader (every file). */
  walk?: FileWalk;
  batchMessages: number;
  /** Post the watermark at least every this many packets of the file. */
  postEveryPackets: number;
  /** Flow control with the main thread (./flow-control.ts): the worker stops reading while it is set. */
  flow: Int32Array;
  /** This worker's share of --max-memory and of the flow limit (workerLimits). */
  limits: DissectorLimits;
}

export interface FileDoneFromWorker {
  type: 'file-done';
  worker: number;
  /** Packets and bytes this worker decoded (its flows). */
  packets: number;
  bytes: number;
  messages: number;
  format: CaptureFormat;
  /** The reader's view of the whole file (the same in every worker). */
  reader: ReaderStats;
  problem?: string;
}

export type FromFileWorker = BatchFromWorker | FileDoneFromWorker;

export const FLUSH_KEY = Number.MAX_SAFE_INTEGER;

/** PacketWorkerData.counts after the 2W packet/byte slots (worker 0's DpmiUnpacker stats). */
export const DPMI_COUNTS = ['frames', 'lostFrames', 'duplicateFrames', 'malformedFrames', 'filteredRecords'] as const;

/** PacketWorkerData.ringIds: no ring will come (stopped or failed before the capture started). */
export const NO_RING = -1;

/** A live decode worker reading its own AF_PACKET ring in place (./packet-worker.ts). */
export interface PacketWorkerData {
  /**
   * ringIds[w]: worker w's ring (src/ingest/live/packet-ring.ts), set by the main thread
   * once every worker reported ready (0 until then; NO_RING: the capture ended first).
   */
  ringIds: Int32Array;
  index: number;
  workers: number;
  decoder: WorkerDecoder;
  /** This worker's share of --max-memory and of the flow limit (workerLimits). */
  limits: DissectorLimits;
  /** Flow control with the main thread (./flow-control.ts). */
  flow: Int32Array;
  /**
   * Merge keys are the kernel's time stamps in ns since this second (a Float64 holds
   * 104 days of them exactly): there is no capture-wide sequence number across sockets.
   */
  baseSec: number;
  /** An idle worker promises no packet older than its clock minus this (ns). */
  slackNs: number;
  /**
   * Shared with the main thread: [2w] packets and [2w + 1] bytes worker w decoded; then
   * (DPMI, written by worker 0) the measurement frames' counts in DPMI_COUNTS order.
   */
  counts: Float64Array;
  /**
   * dpmi-iface: every worker reads the one socket's ring (as reader `index`), unpacks
   * every measurement frame in place and decodes the records of its own flows; keys are
   * record numbers, the same in every worker. Absent: a fanout socket of its own.
   */
  dpmi?: { mampid?: string };
  /** Shared: want[w] ≠ 0 while the main thread's merge waits for worker w's watermark. */
  want: Int32Array;
  /** End rendezvous: endCount[0] counts workers done reading; endTs[w] is worker w's last packet time. */
  endCount: Int32Array;
  endTs: BigInt64Array;
  /** Run a small generated migration through a throwaway Dissector before capturing. */
  warmUp: boolean;
  crashAfterPackets?: number;
  /** Stamp batches with BatchTiming. */
  traceLatency?: boolean;
}
