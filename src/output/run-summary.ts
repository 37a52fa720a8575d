import type { AnomalyKind } from '../core/anomaly.js';
import type { Picos } from '../core/time.js';
import type { Summary } from '../pipeline/analyze.js';

/**
 * The record that closes every event stream (`analyze --json|--msgpack`, a file read to
 * its end or a live capture stopped by SIGINT): what was read and what was lost, so a
 * consumer of the events alone sees the figures the table prints (docs/events.md).
 */
export interface RunSummaryRecord {
  type: 'summary';
  /** Wire time of the last packet (0 when none was read). */
  ts: Picos;
  /** Wire time of the first packet. */
  firstTs: Picos;
  migrations: number;
  /** Packets read (file records, or packets off the native ring). */
  packets: number;
  /** Captured bytes of those packets. */
  bytes: number;
  /** TCP payload bytes the capture's snaplen cut off packets it kept. */
  cutBytes: number;
  /** TCP payload bytes never captured (holes). */
  lostBytes: number;
  /** Packets dropped because a decode ring was full (native path). */
  ringDrops: number;
  /** Packets the kernel or interface dropped (pcap_stats, live). */
  kernelDrops: number;
  /** DPMI measurement frames missing from their sequence. */
  lostFrames: number;
  /** Capture records that could not be read. */
  malformedRecords: number;
  /** Sources read only in part (cut short, damaged). */
  truncatedSources: string[];
  /** Anomaly totals by kind (as in the anomaly events). */
  anomalies: Partial<Record<AnomalyKind, number>>;
}

export function runSummaryRecord(s: Summary): RunSummaryRecord {
  let packets = 0, bytes = 0, ringDrops = 0, kernelDrops = 0, lostFrames = 0, malformedRecords = 0;
  const truncatedSources: string[] = [];
  for (const src of s.sources) {
    if (src.stats) {
      packets += src.stats.packets;
      bytes += src.stats.bytes;
      lostFrames += src.stats.lostFrames;
      malformedRecords += src.stats.malformedRecords;
      if (src.stats.truncated) truncatedSources.push(src.source);
    }
    if (src.ring) {
      packets += src.ring.packets;
      ringDrops += src.ring.ringDrops;
      kernelDrops += src.ring.kernelDrops;
      lostFrames += src.ring.lostFrames ?? 0;
    }
    if (src.problem !== undefined && !truncatedSources.includes(src.source)) truncatedSources.push(src.source);
  }
  const tcp = s.dissector?.tcp;
  return {
    type: 'summary', ts: s.lastTs ?? 0n, firstTs: s.firstTs ?? 0n, migrations: s.migrations.length,
    packets, bytes, cutBytes: tcp?.cutBytes ?? 0, lostBytes: tcp ? tcp.holeBytes - tcp.cutBytes : 0,
    ringDrops, kernelDrops, lostFrames, malformedRecords, truncatedSources, anomalies: { ...s.anomalies },
  };
}
