import type { AnomalyDef } from '../../core/anomaly.js';
import { HttpAnomaly } from './anomaly-codes.js';
import type { HttpHead } from './types.js';
import { hasSpace, isAsciiAlpha, isDecimal15, isDigit, scanRequestLine, scanStatusLine } from './scan.js';

function emptyHead(): HttpHead {
  return {
    isRequest: false, method: '', path: '', status: 0, minor: 1, contentLength: -1,
    chunked: false, otherTransferCoding: false, connectionClose: false, subjectToken: false,
  };
}

/** The request target's path: origin-form without query/fragment; absolute-form reduced to its path. */
export function targetPath(target: string): string {
  let t = target;
  const authorityEnd = absoluteFormPrefix(t);
  if (authorityEnd > 0) t = t.slice(authorityEnd) || '/';
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return t.slice(0, i); // '?' '#'
  }
  return t;
}

/** Length of a leading `scheme://authority` (absolute-form, RFC 9112 §3.2.2), else 0. Scanned by hand: wire data. */
function absoluteFormPrefix(t: string): number {
  if (t.length === 0 || !isAsciiAlpha(t.charCodeAt(0))) return 0;
  let i = 1;
  for (; i < t.length; i++) {
    const c = t.charCodeAt(i);
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    if (!isAsciiAlpha(c) && !isDigit(c) && c !== 0x2b && c !== 0x2d && c !== 0x2e) break;
  }
  if (!t.startsWith('://', i)) return 0;
  for (i += 3; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // '/' '?' '#'
  }
  return i;
}

/** Parses a request or status line; null when it is neither. */
export function parseStartLine(line: string): HttpHead | null {
  const req = scanRequestLine(line);
  if (req) {
    const head = emptyHead();
    head.isRequest = true;
    head.method = req.method;
    head.path = targetPath(req.target);
    head.minor = req.minor;
    head.connectionClose = head.minor === 0;
    return head;
  }
  const st = scanStatusLine(line);
  if (st) {
    const head = emptyHead();
    head.minor = st.minor;
    head.status = st.status;
    head.connectionClose = head.minor === 0;
    return head;
  }
  return null;
}

function hasToken(value: string, token: string): boolean {
  return value.toLowerCase().split(',').some((t) => t.trim() === token);
}

/**
 * Folds one header line into `head`. Returns the anomaly of a line that is not a
 * header or a framing header we cannot trust (request smuggling shapes), else null.
 */
export function applyHeaderLine(head: HttpHead, line: string): AnomalyDef | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return HttpAnomaly.BAD_HEADER_LINE;
  const name = line.slice(0, colon);
  if (hasSpace(name)) return HttpAnomaly.BAD_HEADER_LINE;
  const value = line.slice(colon + 1).trim();
  switch (name.toLowerCase()) {
    case 'content-length': {
      if (!isDecimal15(value)) return HttpAnomaly.BAD_CONTENT_LENGTH;
      const n = Number(value);
      if (head.contentLength >= 0 && head.contentLength !== n) return HttpAnomaly.CONFLICTING_CONTENT_LENGTH;
      head.contentLength = n;
      return null;
    }
    case 'transfer-encoding': {
      const codings = value.toLowerCase().split(',').map((s) => s.trim()).filter((s) => s !== '');
      const last = codings[codings.length - 1];
      if (last === 'chunked') {
        head.chunked = true;
        head.otherTransferCoding = false;
      } else {
        head.chunked = false;
        head.otherTransferCoding = true;
      }
      return null;
    }
    case 'connection':
      if (hasToken(value, 'close')) head.connectionClose = true;
      else if (hasToken(value, 'keep-alive')) head.connectionClose = false;
      return null;
    case 'host':
      head.host = value;
      return null;
    case 'content-type':
      head.contentType = value.toLowerCase();
      return null;
    case 'x-subject-token':
      head.subjectToken = true;
      return null;
    default:
      return null;
  }
}
