import { anomalyDef } from '../../core/anomaly.js';

/** libvirt RPC decoder anomaly codes (stable: docs/anomalies.md). */
export const LibvirtAnomaly = {
  /** Framing lost: the direction is no longer decoded. */
  BAD_LENGTH: anomalyDef('LIBVIRT_BAD_LENGTH', 'protocol-error', 'message length outside 28 B … 32 MiB: direction no longer decoded', ['length']),
  BAD_TYPE: anomalyDef('LIBVIRT_BAD_TYPE', 'protocol-error', 'unknown message type: direction no longer decoded', ['type']),
  BAD_STATUS: anomalyDef('LIBVIRT_BAD_STATUS', 'protocol-error', 'unknown message status: direction no longer decoded', ['status']),
  /** length: the bytes missing. */
  GAP_IN_FRAMING: anomalyDef('LIBVIRT_GAP_IN_FRAMING', 'protocol-error', 'bytes missing across message framing: direction no longer decoded', ['length']),
  ENDED_IN_MESSAGE: anomalyDef('LIBVIRT_ENDED_IN_MESSAGE', 'protocol-error', 'connection ended inside a message'),
  /** A migration call/reply or error body that does not decode. */
  BAD_BODY: anomalyDef('LIBVIRT_BAD_BODY', 'protocol-error', 'migration or error body does not decode', ['program', 'procedure', 'type']),
} as const;
