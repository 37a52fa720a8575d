import { anomalyDef } from '../core/anomaly.js';

/**
 * Capture anomaly codes (stable: docs/anomalies.md): packets lost before decoding, and
 * what a capture file's reader could not read. They belong to no flow (flowId -1).
 */
export const CaptureAnomaly = {
  /** count: packets. */
  RING_FULL: anomalyDef('CAPTURE_RING_FULL', 'ring-drop', 'decode ring full: packets dropped before decoding'),
  /** count: packets. */
  KERNEL_DROP: anomalyDef('CAPTURE_KERNEL_DROP', 'capture-drop', 'kernel/interface dropped packets (pcap_stats)'),
  /** count: frames. */
  DPMI_FRAME_LOSS: anomalyDef('CAPTURE_DPMI_FRAME_LOSS', 'frame-loss', 'DPMI measurement-frame sequence gap'),
  /** count: records (a cut final record included); skippedBytes: input bytes that became no packet. */
  MALFORMED_RECORDS: anomalyDef('CAPTURE_MALFORMED_RECORDS', 'malformed-record', 'capture file records that could not be read', ['skippedBytes']),
  /** count: packets. A time before 1970 or from year 10000 on (pcapng if_tsoffset), kept as read. */
  TIME_OUT_OF_RANGE: anomalyDef('CAPTURE_TIME_OUT_OF_RANGE', 'time-out-of-range', 'packet time before 1970 or from year 10000 on (kept as read)'),
  /** count: 1. The file ends inside a record (or its gzip stream is cut). */
  TRUNCATED_FILE: anomalyDef('CAPTURE_TRUNCATED_FILE', 'truncated-file', 'capture file cut inside a record'),
} as const;
