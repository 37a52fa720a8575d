import { anomalyDef } from '../core/anomaly.js';

/** Phase engine anomaly codes (stable: docs/anomalies.md): state dropped to stay bounded. */
export const PhaseAnomaly = {
  CANDIDATE_SHED: anomalyDef('PHASES_CANDIDATE_SHED', 'memory-shed', 'unrecognised libvirt connection forgotten (too many open at once)'),
} as const;
