import type { MessageBase } from '../../core/message.js';
import type { Picos } from '../../core/time.js';

export interface HttpRequest extends MessageBase {
  protocol: 'http';
  kind: 'request';
  method: string;
  /** Path without the query string. */
  path: string;
  host?: string;
  contentLength: number;
  /** Top-level keys of a JSON body (e.g. ["os-migrateLive"]), when the body is JSON. */
  jsonKeys?: string[];
  /** For os-migrateLive: the target host named in the body. */
  migrateLiveHost?: string;
}
export interface HttpResponse extends MessageBase {
  protocol: 'http';
  kind: 'response';
  status: number;
  /** Method and path of the request this answers (HTTP/1.1 responses come in order). */
  requestMethod?: string;
  requestPath?: string;
  requestTs?: Picos;
  contentLength: number;
  /** Keystone v3 issues the token in this header. */
  subjectToken?: boolean;
}
export type HttpMessage = HttpRequest | HttpResponse;

/** Bounds that keep one connection's state small whatever it sends. */
export const HTTP_LIMITS = {
  /** Longest start line, header line or chunk-size line we hold. */
  maxLine: 64 * 1024,
  /** Largest header block (all lines) before we call it malformed. */
  maxHead: 256 * 1024,
  /** JSON request bodies up to this size are kept to extract their keys. */
  maxJsonBody: 64 * 1024,
  /** Requests waiting for their response (pipelining depth). */
  maxPending: 256,
} as const;

/** What the head of one message told us: only the fields the decoder needs. */
export interface HttpHead {
  isRequest: boolean;
  method: string;
  path: string;
  status: number;
  /** Minor version of HTTP/1.x (0 or 1): HTTP/1.0 defaults to close. */
  minor: number;
  host?: string;
  contentType?: string;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** Transfer-Encoding present but not ending in chunked (response: read until close). */
  otherTransferCoding: boolean;
  connectionClose: boolean;
  subjectToken: boolean;
}
