import { createRing } from '../../ingest/live/ring.js';
import { openNativeCapture, type NativeCaptureStats, type NativeSource } from '../../ingest/live/native.js';
import {
  PacketRingUnavailable, armPacketRing, closePacketRing, packetRingFrontier, openPacketRings, packetRingStats, stopPacketRing, wakePacketRing,
  type PacketRingGroup, type PacketRingOptions, type PacketRingSocketStats,
} from '../../ingest/live/packet-ring.js';
import { compiledWorkerScript } from '../../core/compiled-script.js';
import { decodeWorkerScript } from './worker-script.js';
import { DPMI_COUNTS, NO_RING, type DecodeWorkerData, type PacketWorkerData, type WorkerDecoder } from './protocol.js';
import type { DissectorLimits } from '../../dissect/memory-budget.js';

/** Which capture path a live run took. */
export type CapturePath = 'af-packet' | 'libpcap';

export interface CaptureBackendStats extends NativeCaptureStats {
  capturePath: CapturePath;
  /** AF_PACKET: each socket's PACKET_STATISTICS (worker w reads socket w). */
  sockets?: PacketRingSocketStats[];
}

/** What the worker pipeline (./run.ts) needs from a capture path. */
export interface CaptureBackend {
  readonly path: CapturePath;
  readonly script: string;
  workerData(index: number, common: WorkerCommon): DecodeWorkerData | PacketWorkerData;
  start(): void;
  /** Every worker reported ready (AF_PACKET: packets are let in now). */
  workersReady(): void;
  /** Stops capturing; workers drain what was captured and end. Idempotent. */
  stop(): void;
  stats(): CaptureBackendStats;
  /** Resolves once the capture ended (EOF or stop), rejects on a capture error. */
  readonly ended: Promise<void>;
  /** The merge waits for these workers' watermarks: ask them for it. */
  wantWatermark(workers: readonly number[]): void;
  /**
   * A key `worker` will not emit at or below, read from its ring without waking it
   * (every packet stamped before the clock read has been read and its messages posted),
   * or undefined. Valid only if, read afterwards, none of its batches is still in flight.
   */
  idlePromise?(worker: number): number | undefined;
  /** After every worker ended. */
  close(): void;
}

export interface WorkerCommon {
  workers: number;
  decoder: WorkerDecoder;
  flow: Int32Array;
  /** Each worker's share of --max-memory and of the flow limit (workerLimits). */
  limits: DissectorLimits;
  crashAfterPackets?: number;
  traceLatency?: boolean;
}

/**
 * The libpcap path (the fallback where AF_PACKET is unavailable, and files read with
 * --filter): one native capture thread copies each packet into the ring of its flow.
 */
export function libpcapBackend(source: NativeSource, workers: number, ringBytes: number | undefined,
  flushMs: number): CaptureBackend {
  const rings = Array.from({ length: workers }, () => createRing(ringBytes ?? 16 << 20));
  const capture = openNativeCapture(source, rings); // typed errors throw here
  return {
    path: 'libpcap',
    script: decodeWorkerScript(),
    workerData: (i, c) => ({
      ring: rings[i]!, ring0: rings[0]!, index: i, workers: c.workers, decoder: c.decoder, flow: c.flow, limits: c.limits,
      // Messages leave as soon as the ring is drained (the idle branch); while it stays
      // busy, and for an idle worker's watermark, at least every flushMs.
      batchMessages: 256, flushMs,
      ...(c.crashAfterPackets !== undefined ? { crashAfterPackets: c.crashAfterPackets } : {}),
      ...(c.traceLatency === true ? { traceLatency: true } : {}),
    }),
    start: () => capture.start(),
    workersReady: () => undefined, // libpcap's thread fills the rings from start()
    stop: () => capture.stop(), // breakloop + join; every ring gets its EOF record
    stats: () => ({ ...capture.stats(), capturePath: 'libpcap' }),
    ended: capture.ended,
    wantWatermark: () => undefined, // libpcap workers post it at least every flushMs
    close: () => undefined,
  };
}

export interface PacketRingSource {
  name: string;
  netns?: string;
  filter?: string;
  promisc?: boolean;
  snaplen?: number;
  /** dpmi-iface: measurement frames (EtherType 0x0810), all workers reading one socket. */
  dpmi?: { mampid?: string };
}

/**
 * An idle worker's watermark lags its clock by this much: the time a packet may sit
 * between the kernel's time stamp and its ring's packet count (µs, unless the stamp is
 * taken on an early queue of a loaded host).
 */
export const IDLE_SLACK_NS = 200_000;

/**
 * The zero-copy live path: one AF_PACKET socket per worker in a PACKET_FANOUT group,
 * each worker reading its own mapped ring in place. Throws PacketRingUnavailable where
 * AF_PACKET cannot be used (the caller falls back to libpcapBackend).
 */
export function packetRingBackend(source: PacketRingSource, workers: number, warmUp: boolean): CaptureBackend {
  const { dpmi, ...rest } = source;
  // The frames reach the ring with their 802.1Q tag taken out, while a filter compiled
  // for a plain Ethernet link looks for it in the frame: such a filter would match
  // nothing here. libpcap's own live handle tests the tag the kernel took out.
  if (source.filter !== undefined && /\bvlan\b/i.test(source.filter)) {
    throw new PacketRingUnavailable(`the filter "${source.filter}" tests VLAN tags, which AF_PACKET rings get taken out of the frame: it needs the libpcap path (--capture pcap)`);
  }
  // Measurement frames all hash alike (no IP header to hash), so a fanout group would
  // put them on one socket: every worker reads that one socket's ring instead.
  const options: PacketRingOptions = dpmi === undefined
    ? { ...rest, iface: source.name, count: workers }
    : { ...rest, iface: source.name, count: 1, readers: workers, filter: 'ether proto 0x0810', promisc: source.promisc ?? false, allMulticast: true };
  // Checked now so that a bad name, right or filter fails here, synchronously; the group
  // is opened when every worker is warm (packets arriving before would wait in rings
  // whose 1 ms blocks hold little), and its ids handed over then.
  openPacketRings({ ...options, checkOnly: true });
  const ringIds = new Int32Array(new SharedArrayBuffer(4 * workers));
  let group: PacketRingGroup | undefined;
  const baseSec = Math.floor(Date.now() / 1000) - 1;
  const counts = new Float64Array(new SharedArrayBuffer(8 * (2 * workers + DPMI_COUNTS.length)));
  const dpmiCount = (k: (typeof DPMI_COUNTS)[number]): number => counts[2 * workers + DPMI_COUNTS.indexOf(k)]!;
  const want = new Int32Array(new SharedArrayBuffer(4 * workers));
  const endCount = new Int32Array(new SharedArrayBuffer(4));
  const endTs = new BigInt64Array(new SharedArrayBuffer(8 * workers));
  const sockets = (): PacketRingSocketStats[] => group?.ids.map((id) => packetRingStats(id)) ?? [];
  let lastSockets: PacketRingSocketStats[] = [];
  let closed = false;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => { resolveEnded = r; });
  const handOver = (ids: readonly number[]): void => {
    for (let w = 0; w < workers; w++) { Atomics.store(ringIds, w, ids[w] ?? NO_RING); Atomics.notify(ringIds, w); }
  };
  const stats = (): CaptureBackendStats => {
    if (!closed) lastSockets = sockets();
    let packets = 0;
    let bytes = 0;
    for (let w = 0; w < workers; w++) { packets += counts[2 * w]!; bytes += counts[2 * w + 1]!; }
    return {
      capturePath: 'af-packet', sockets: lastSockets, packets, bytes,
      kernelReceived: lastSockets.reduce((a, s) => a + s.received, 0),
      kernelDrops: lastSockets.reduce((a, s) => a + s.drops, 0),
      interfaceDrops: 0, dpmiFrames: dpmiCount('frames'), dpmiLostFrames: dpmiCount('lostFrames'),
      dpmiDuplicateFrames: dpmiCount('duplicateFrames'), dpmiMalformedFrames: dpmiCount('malformedFrames'),
      dpmiFilteredRecords: dpmiCount('filteredRecords'), blockedWaits: 0, linkType: group?.linkType ?? 1,
      rings: Array.from({ length: workers }, (_, w) => ({ written: counts[2 * w]!, dropped: 0, droppedBytes: 0 })),
    };
  };
  return {
    path: 'af-packet',
    script: compiledWorkerScript(import.meta.url, 'packet-worker.js', 'src/pipeline/ring'),
    workerData: (i, c) => ({
      ringIds, index: i, workers: c.workers, decoder: c.decoder, flow: c.flow, limits: c.limits,
      baseSec, slackNs: IDLE_SLACK_NS, counts, want, endCount, endTs, warmUp, ...(dpmi !== undefined ? { dpmi } : {}),
      ...(c.crashAfterPackets !== undefined ? { crashAfterPackets: c.crashAfterPackets } : {}),
      ...(c.traceLatency === true ? { traceLatency: true } : {}),
    }),
    start: () => undefined,
    workersReady: () => {
      if (closed || group !== undefined) return;
      try {
        group = openPacketRings(options);
        for (const id of group.ids) armPacketRing(id);
      } catch (e) {
        handOver([]);
        throw e;
      }
      handOver(dpmi === undefined ? group.ids : new Array<number>(workers).fill(group.ids[0]!));
    },
    stop: () => {
      if (group === undefined) handOver([]); // workers waiting for a ring end at once
      else if (!closed) for (const id of group.ids) stopPacketRing(id);
      resolveEnded();
    },
    stats,
    ended,
    // Time-keyed rings only (DPMI keys are record numbers, known to the workers alone).
    ...(dpmi === undefined ? {
      idlePromise: (w: number): number | undefined => {
        if (group === undefined || closed) return undefined;
        const f = packetRingFrontier(group.ids[w]!, baseSec);
        return f > 0 ? f - IDLE_SLACK_NS : undefined;
      },
    } : {}),
    wantWatermark: (ws) => {
      if (group === undefined) return;
      for (const w of ws) {
        if (closed || Atomics.load(want, w) !== 0) continue;
        Atomics.store(want, w, 1);
        if (dpmi === undefined) wakePacketRing(group.ids[w]!);
        else wakePacketRing(group.ids[0]!, w);
      }
    },
    close: () => {
      if (closed) return;
      lastSockets = sockets(); // the final counts, before the sockets go
      closed = true;
      for (const id of group?.ids ?? []) closePacketRing(id);
    },
  };
}
