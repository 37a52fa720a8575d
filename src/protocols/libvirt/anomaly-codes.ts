import { anomalyDef } from '../../core/anomaly.js';

/** libvirt RPC decoder anomaly codes (stable: docs/anomalies.md). */
export const LibvirtAnomaly = {
  /** Framing lost: the direction is no longer decoded. */
  BAD_LENGTH: anomalyDef('LIBVIRT_BAD_LENGTH', 'protocol-error', 'message length outside 28 B … 32 MiB: direction no longer decoded', ['length']),
  BAD_TYPE: anomalyDef('LIBVIRT_BAD_TYPE', 'protocol-error', 'unknown message type: direction no longer decoded', ['type']),
  BAD_STATUS: anomalyDef('LIBVIRT_BAD_STATUS', 'protocol-error', 'unknown message status: direction no longer decoded', ['status']),
  /** length: the bytes missing. */
  GAP_IN_FRAMING: anomalyDef('LIBVIRT_GAP_IN_FRAMING', 'protocol-error', 'bytes missing across message framing: direction no longer decoded', ['length']),
  /** length: header bytes missing (the length word was seen: the next message stays framed). */
  GAP_IN_HEADER: anomalyDef('LIBVIRT_GAP_IN_HEADER', 'protocol-error', 'bytes missing inside a message header: that message not decoded, framing kept', ['length']),
  /** length: bytes missing from where a length word was due: resync on the next segment starting with a header. */
  FRAMING_LOST_RESYNC: anomalyDef('LIBVIRT_FRAMING_LOST_RESYNC', 'protocol-error', 'bytes missing across message framing: resynchronising on the next segment that starts with a header', ['length']),
  ENDED_IN_MESSAGE: anomalyDef('LIBVIRT_ENDED_IN_MESSAGE', 'protocol-error', 'connection ended inside a message'),
  /** A migration call/reply or error body that does not decode. */
  BAD_BODY: anomalyDef('LIBVIRT_BAD_BODY', 'protocol-error', 'migration or error body does not decode', ['program', 'procedure', 'type']),
  /** A TLS handshake on the plaintext port: counted as TLS, never decoded as RPC. */
  TLS_ON_PLAIN_PORT: anomalyDef('LIBVIRT_TLS_ON_PLAIN_PORT', 'protocol-error', 'TLS on the plaintext libvirt port (16509): records counted, RPC not decoded'),
} as const;
