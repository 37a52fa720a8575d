import { anomalyDef } from '../../core/anomaly.js';

/**
 * HTTP/1.1 decoder anomaly codes (stable: docs/anomalies.md). After a framing error the
 * direction resynchronises at the next line that parses as a start line.
 */
export const HttpAnomaly = {
  /** length: the bytes missing. */
  GAP_IN_FRAMING: anomalyDef('HTTP_GAP_IN_FRAMING', 'protocol-error', 'bytes missing in HTTP framing', ['length']),
  CLOSED_IN_BODY: anomalyDef('HTTP_CLOSED_IN_BODY', 'protocol-error', 'connection closed inside an HTTP body'),
  CLOSED_IN_HEAD: anomalyDef('HTTP_CLOSED_IN_HEAD', 'protocol-error', 'connection closed inside an HTTP header block'),
  CLOSED_IN_START_LINE: anomalyDef('HTTP_CLOSED_IN_START_LINE', 'protocol-error', 'connection closed inside an HTTP start line'),
  LINE_TOO_LONG: anomalyDef('HTTP_LINE_TOO_LONG', 'protocol-error', 'HTTP line longer than the limit', ['limit']),
  BAD_START_LINE: anomalyDef('HTTP_BAD_START_LINE', 'protocol-error', 'not an HTTP start line'),
  HEAD_TOO_LARGE: anomalyDef('HTTP_HEAD_TOO_LARGE', 'protocol-error', 'HTTP header block larger than the limit', ['limit']),
  BAD_HEADER_LINE: anomalyDef('HTTP_BAD_HEADER_LINE', 'protocol-error', 'header line without a name or with whitespace in the name'),
  BAD_CONTENT_LENGTH: anomalyDef('HTTP_BAD_CONTENT_LENGTH', 'protocol-error', 'Content-Length is not a decimal number'),
  CONFLICTING_CONTENT_LENGTH: anomalyDef('HTTP_CONFLICTING_CONTENT_LENGTH', 'protocol-error', 'conflicting Content-Length headers'),
  BAD_CHUNK_SIZE: anomalyDef('HTTP_BAD_CHUNK_SIZE', 'protocol-error', 'bad chunk size line'),
  CHUNK_WITHOUT_CRLF: anomalyDef('HTTP_CHUNK_WITHOUT_CRLF', 'protocol-error', 'chunk data not followed by CRLF'),
  /** The oldest unanswered request is forgotten. */
  TOO_MANY_PENDING: anomalyDef('HTTP_TOO_MANY_PENDING', 'protocol-error', 'too many requests without a response', ['limit']),
  UNSUPPORTED_TRANSFER_CODING: anomalyDef('HTTP_UNSUPPORTED_TRANSFER_CODING', 'protocol-error', 'request with a Transfer-Encoding other than chunked'),
} as const;
