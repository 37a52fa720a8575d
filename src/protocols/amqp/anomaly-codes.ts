import { anomalyDef } from '../../core/anomaly.js';

/** AMQP 0-9-1 decoder anomaly codes (stable: docs/anomalies.md). */
export const AmqpAnomaly = {
  // Framing: the direction is no longer decoded after these.
  BAD_PROTOCOL_HEADER: anomalyDef('AMQP_BAD_PROTOCOL_HEADER', 'protocol-error', 'not the AMQP 0-9-1 protocol header: direction no longer decoded'),
  BAD_FRAME_END: anomalyDef('AMQP_BAD_FRAME_END', 'protocol-error', 'frame end is not 0xce: direction no longer decoded', ['byte']),
  UNKNOWN_FRAME_TYPE: anomalyDef('AMQP_UNKNOWN_FRAME_TYPE', 'protocol-error', 'unknown frame type: direction no longer decoded', ['frameType']),
  /** length: the bytes missing. */
  GAP_ACROSS_FRAMES: anomalyDef('AMQP_GAP_ACROSS_FRAMES', 'protocol-error', 'bytes missing across AMQP frames: direction no longer decoded', ['length']),
  /** open: messages left incomplete. */
  CLOSED_IN_FRAME: anomalyDef('AMQP_CLOSED_IN_FRAME', 'protocol-error', 'connection closed inside a frame or message', ['open']),
  // Frames skipped, decoding goes on.
  FRAME_TOO_LARGE: anomalyDef('AMQP_FRAME_TOO_LARGE', 'protocol-error', 'method or content header frame larger than the limit: skipped', ['frameType', 'size', 'limit']),
  BAD_HEARTBEAT: anomalyDef('AMQP_BAD_HEARTBEAT', 'protocol-error', 'heartbeat frame not on channel 0 or not empty', ['channel', 'size']),
  FRAME_NOT_DECODED: anomalyDef('AMQP_FRAME_NOT_DECODED', 'protocol-error', 'method or content header frame not decoded (oversized or lost)', ['channel', 'frameType']),
  // Methods and content headers.
  METHOD_TOO_SHORT: anomalyDef('AMQP_METHOD_TOO_SHORT', 'protocol-error', 'method frame too short for class and method id', ['length']),
  UNKNOWN_METHOD: anomalyDef('AMQP_UNKNOWN_METHOD', 'protocol-error', 'unknown method', ['classId', 'methodId']),
  BAD_FIELD_TABLE: anomalyDef('AMQP_BAD_FIELD_TABLE', 'protocol-error', 'malformed field table in method arguments', ['classId', 'methodId']),
  METHOD_ARGS_OVERRUN: anomalyDef('AMQP_METHOD_ARGS_OVERRUN', 'protocol-error', 'method arguments run past the frame', ['classId', 'methodId']),
  HEADER_TOO_SHORT: anomalyDef('AMQP_HEADER_TOO_SHORT', 'protocol-error', 'content header frame too short', ['length']),
  /** property: index in the basic property list. */
  BAD_HEADER_PROPERTY: anomalyDef('AMQP_BAD_HEADER_PROPERTY', 'protocol-error', 'content header property runs past the frame or is malformed', ['property']),
  // Message assembly per channel: the message in assembly is dropped.
  METHOD_INTERRUPTS_MESSAGE: anomalyDef('AMQP_METHOD_INTERRUPTS_MESSAGE', 'protocol-error', 'a method frame interrupts a message (message dropped)', ['channel']),
  HEADER_WITHOUT_METHOD: anomalyDef('AMQP_HEADER_WITHOUT_METHOD', 'protocol-error', 'content header without a content method', ['channel']),
  BODY_WITHOUT_HEADER: anomalyDef('AMQP_BODY_WITHOUT_HEADER', 'protocol-error', 'body frame without a content header', ['channel']),
  BODY_EXCEEDS_SIZE: anomalyDef('AMQP_BODY_EXCEEDS_SIZE', 'protocol-error', 'body frames exceed the announced body size', ['channel', 'bodySize']),
  /** The body is counted but not kept (no oslo envelope). */
  BODY_OVER_BUDGET: anomalyDef('AMQP_BODY_OVER_BUDGET', 'flow-memory', 'bodies in assembly exceed the per-direction budget: body not kept', ['channel', 'limit']),
} as const;
