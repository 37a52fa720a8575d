import type { Picos } from './time.js';

/** An IP endpoint. IPv4 dotted quad or IPv6 text form. */
export interface Endpoint {
  ip: string;
  port: number;
}

/**
 * The header every protocol message carries, whichever stage raised it (packet
 * decoders, the flow tracker, stream decoders, the capture itself for anomalies).
 */
export interface MessageBase {
  /** Wire timestamp of the packet that carried the message's first byte. */
  ts: Picos;
  /** Wire timestamp of the packet that completed the message (= ts when one packet). */
  tsEnd: Picos;
  /** Connection the message travelled on (-1 for connectionless protocols). */
  flowId: number;
  /** Sender and receiver of this message. */
  src: Endpoint;
  dst: Endpoint;
}
