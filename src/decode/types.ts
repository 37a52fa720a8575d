import type { Endpoint, MessageBase } from '../core/message.js';

export type { Endpoint } from '../core/message.js';

export type Transport = 'tcp' | 'udp';

/** Which way a chunk of a connection travels, relative to the side that opened it. */
export type Direction = 'c2s' | 's2c';

/**
 * A transport connection as the flow table knows it. `client` is the side that sent
 * the first SYN (or, for a connection seen mid-stream, the side with the higher
 * port — a guess, flagged by `midstream`).
 */
export interface FlowInfo {
  /** Stable small integer, unique within one analysis run. */
  id: number;
  transport: Transport;
  client: Endpoint;
  server: Endpoint;
  midstream: boolean;
}

/** Raised by the flow tracker (not by a protocol decoder): connection life cycle. */
export interface TcpSegmentMarker extends MessageBase {
  protocol: 'tcp';
  /** syn: the first SYN of a connection; fin/rst: the first FIN/RST in that direction. */
  kind: 'syn' | 'syn-ack' | 'fin' | 'rst';
  dir: Direction;
  /**
   * fin only, when the other direction has not been seen closing: evidence that its
   * FIN came earlier and was lost (this segment acknowledges a FIN or bytes never
   * captured, or bytes of that direction were lost before). Absent: no such evidence,
   * this FIN is the first of the connection.
   */
  peerFinMayBeLost?: string;
}
