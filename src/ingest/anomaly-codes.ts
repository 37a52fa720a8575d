import { anomalyDef } from '../core/anomaly.js';

/**
 * Capture anomaly codes (stable: docs/anomalies.md): packets lost before decoding. Each
 * counts packets (or DPMI frames); they belong to no flow (flowId -1).
 */
export const CaptureAnomaly = {
  RING_FULL: anomalyDef('CAPTURE_RING_FULL', 'ring-drop', 'decode ring full: packets dropped before decoding'),
  KERNEL_DROP: anomalyDef('CAPTURE_KERNEL_DROP', 'capture-drop', 'kernel/interface dropped packets (pcap_stats)'),
  DPMI_FRAME_LOSS: anomalyDef('CAPTURE_DPMI_FRAME_LOSS', 'frame-loss', 'DPMI measurement-frame sequence gap'),
} as const;
