import { anomalyDef } from '../core/anomaly.js';

/** Phase engine anomaly codes (stable: docs/anomalies.md): state dropped to stay bounded. */
export const PhaseAnomaly = {
  CANDIDATE_SHED: anomalyDef('PHASES_CANDIDATE_SHED', 'memory-shed', 'unrecognised libvirt connection forgotten (too many open at once)'),
  PING_STREAM_SHED: anomalyDef('PHASES_PING_STREAM_SHED', 'memory-shed', 'least recently active ICMP echo stream forgotten (too many ping streams at once)'),
} as const;
