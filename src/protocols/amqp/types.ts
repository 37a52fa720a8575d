import type { MessageBase } from '../../core/message.js';
import type { Picos } from '../../core/time.js';

export interface OsloEnvelope {
  /** RPC method for calls/casts; absent in replies. */
  method?: string;
  /** Calls carry a message id and a reply queue; casts have neither. */
  msgId?: string;
  replyQueue?: string;
  isCall: boolean;
  /** Replies: the `ending` flag, and whether a result / failure is present. */
  isReply: boolean;
  ending?: boolean;
  hasResult?: boolean;
  failure?: string;
  /** Useful arguments when present: instance uuid, destination/source host. */
  instanceUuid?: string;
  host?: string;
}
export interface AmqpMessage extends MessageBase {
  protocol: 'amqp';
  kind: 'publish' | 'deliver';
  channel: number;
  exchange: string;
  routingKey: string;
  bodySize: number;
  oslo?: OsloEnvelope;
}

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;

/** "AMQP" 0 0 9 1: the client's protocol header (also the server's reply to a bad one). */
export const PROTOCOL_HEADER = Uint8Array.of(0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1);

export const AMQP_LIMITS = {
  /** Method and content-header frames are held whole up to this size (RabbitMQ frame_max is 128 KiB). */
  maxFramePayload: 1024 * 1024,
  /** A message body is kept (for the oslo envelope) up to this size; larger ones are counted and skipped. */
  maxBody: 1024 * 1024,
  /** All bodies being assembled on one direction's channels together. */
  maxBodiesPerDirection: 8 * 1024 * 1024,
} as const;

/** A message whose content (header + body frames) is complete: the decoder turns it into an AmqpMessage. */
export interface CompletedContent {
  kind: 'publish' | 'deliver';
  channel: number;
  exchange: string;
  routingKey: string;
  bodySize: number;
  ts: Picos;
  tsEnd: Picos;
  oslo: AmqpMessage['oslo'];
}
