import type { Picos } from '../../core/time.js';
import type { Direction, FlowInfo } from '../../decode/types.js';
import { ByteAccumulator, latin1 } from '../byte-accumulator.js';
import { isHex12 } from './scan.js';
import type { AnomalyDef, AnomalyFields } from '../../core/anomaly.js';
import { streamAnomaly } from '../anomaly.js';
import type { Emit, HttpRequest, HttpResponse, StreamDecoder } from '../types.js';
import { HttpAnomaly } from './anomaly-codes.js';
import { applyHeaderLine, parseStartLine } from './head.js';
import { isJsonContentType, jsonBodyFacts } from './json-body.js';
import { HTTP_LIMITS, type HttpHead } from './types.js';

type HalfState =
  | 'start' | 'headers' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers'
  | 'until-close' | 'resync' | 'stopped';

interface PendingRequest { method: string; path: string; ts: Picos }

/** One direction of the connection: a line reader and the message being framed. */
class HttpHalf {
  state: HalfState = 'start';
  readonly line = new ByteAccumulator(HTTP_LIMITS.maxLine);
  lineTs: Picos = 0n;
  headBytes = 0;
  head: HttpHead | null = null;
  msgTs: Picos = 0n;
  /** Bytes left in the Content-Length body or the current chunk. */
  remaining = 0;
  bodyBytes = 0;
  /** Collects a small JSON request body; reused across messages (`jsonActive` says whether in use). */
  readonly json = new ByteAccumulator(HTTP_LIMITS.maxJsonBody);
  jsonActive = false;
  paired: PendingRequest | undefined;
  /** HEAD / 1xx / 204 / 304 response: no body whatever Content-Length says. */
  noBody = false;
  /** Requests sent in this direction still waiting for a response from the other. */
  readonly pending: PendingRequest[] = [];

  resetMessage(): void {
    this.head = null;
    this.headBytes = 0;
    this.remaining = 0;
    this.bodyBytes = 0;
    this.jsonActive = false;
    this.json.clear();
    this.paired = undefined;
    this.noBody = false;
  }
}

const NO_BODY_STATUS = (s: number): boolean => (s >= 100 && s < 200) || s === 204 || s === 304;

/**
 * HTTP/1.1 over one TCP connection: requests and responses in both directions (the
 * side guessed as client for a mid-stream flow may be wrong), keep-alive and
 * pipelining (responses pair with requests in order), Content-Length, chunked with
 * trailers, read-until-close. Bodies are skipped except small JSON request bodies.
 */
export class HttpStreamDecoder implements StreamDecoder {
  private readonly halves: Record<Direction, HttpHalf> = { c2s: new HttpHalf(), s2c: new HttpHalf() };

  constructor(private readonly flow: FlowInfo, private readonly emit: Emit) {}

  heldBytes(): number {
    let n = 0;
    for (const h of [this.halves.c2s, this.halves.s2c]) n += h.line.capacity + h.json.capacity + h.pending.length * 200;
    return n;
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    const h = this.halves[dir];
    let pos = 0;
    // Every iteration consumes at least one byte or changes state towards consuming.
    let guard = bytes.length * 2 + 8;
    while (pos < bytes.length && h.state !== 'stopped' && guard-- > 0) {
      switch (h.state) {
        case 'body':
        case 'chunk-data': {
          const n = Math.min(h.remaining, bytes.length - pos);
          this.bodyData(h, bytes, pos, pos + n);
          pos += n;
          h.remaining -= n;
          if (h.remaining === 0) {
            if (h.state === 'body') this.finish(dir, h, ts);
            else h.state = 'chunk-crlf';
          }
          break;
        }
        case 'until-close':
          this.bodyData(h, bytes, pos, bytes.length);
          pos = bytes.length;
          break;
        default:
          pos = this.readLine(dir, h, bytes, pos, ts);
      }
    }
  }

  gap(dir: Direction, length: number, ts: Picos): void {
    const h = this.halves[dir];
    if ((h.state === 'body' || h.state === 'chunk-data') && length <= h.remaining) {
      h.remaining -= length;
      h.bodyBytes += length;
      h.jsonActive = false; // the body is incomplete: no keys from it
      if (h.remaining === 0) {
        if (h.state === 'body') this.finish(dir, h, ts);
        else h.state = 'chunk-crlf';
      }
      return;
    }
    if (h.state === 'until-close') {
      h.bodyBytes += length;
      h.jsonActive = false;
      return;
    }
    if (h.state === 'stopped' || h.state === 'resync') return;
    this.anomaly(dir, ts, HttpAnomaly.GAP_IN_FRAMING, { length });
    this.enterResync(h);
  }

  end(dir: Direction, ts: Picos): void {
    const h = this.halves[dir];
    switch (h.state) {
      case 'until-close':
        this.finish(dir, h, ts);
        break;
      case 'body': case 'chunk-size': case 'chunk-data': case 'chunk-crlf': case 'trailers':
        this.anomaly(dir, ts, HttpAnomaly.CLOSED_IN_BODY);
        this.finish(dir, h, ts);
        break;
      case 'headers':
        this.anomaly(dir, ts, HttpAnomaly.CLOSED_IN_HEAD);
        break;
      case 'start':
        if (h.line.length > 0) this.anomaly(dir, ts, HttpAnomaly.CLOSED_IN_START_LINE);
        break;
      default:
        break;
    }
    h.resetMessage();
    h.line.clear();
    h.state = 'stopped';
  }

  private readLine(dir: Direction, h: HttpHalf, bytes: Uint8Array, pos: number, ts: Picos): number {
    if (h.line.length === 0 && !h.line.overflowed) h.lineTs = ts;
    const lf = bytes.indexOf(10, pos);
    const end = lf < 0 ? bytes.length : lf;
    h.line.append(bytes, pos, end);
    if (h.line.overflowed && h.state !== 'resync') {
      this.anomaly(dir, ts, HttpAnomaly.LINE_TOO_LONG, { limit: HTTP_LIMITS.maxLine });
      this.enterResync(h);
    }
    if (lf < 0) return bytes.length;
    const tooLong = h.line.overflowed;
    let view = h.line.view();
    if (view.length > 0 && view[view.length - 1] === 13) view = view.subarray(0, view.length - 1);
    const text = tooLong ? null : latin1(view);
    h.headBytes += h.line.length + 1;
    h.line.clear();
    if (text !== null) this.processLine(dir, h, text, ts);
    return lf + 1;
  }

  private processLine(dir: Direction, h: HttpHalf, text: string, ts: Picos): void {
    switch (h.state) {
      case 'start':
      case 'resync': {
        if (text === '') { h.headBytes = 0; return; } // stray CRLF between messages
        const head = parseStartLine(text);
        if (head === null) {
          if (h.state === 'start') {
            this.anomaly(dir, ts, HttpAnomaly.BAD_START_LINE);
            this.enterResync(h);
          }
          return;
        }
        h.resetMessage();
        h.head = head;
        h.headBytes = text.length + 2;
        h.msgTs = h.lineTs;
        h.state = 'headers';
        return;
      }
      case 'headers': {
        if (h.headBytes > HTTP_LIMITS.maxHead) {
          this.anomaly(dir, ts, HttpAnomaly.HEAD_TOO_LARGE, { limit: HTTP_LIMITS.maxHead });
          this.enterResync(h);
          return;
        }
        if (text === '') { this.headComplete(dir, h, ts); return; }
        if (text[0] === ' ' || text[0] === '\t') return; // obsolete line folding: a continuation
        const err = applyHeaderLine(h.head!, text);
        if (err !== null) {
          this.anomaly(dir, ts, err);
          this.enterResync(h);
        }
        return;
      }
      case 'chunk-size': {
        const sizeText = (text.split(';')[0] ?? '').trim();
        if (!isHex12(sizeText)) {
          this.anomaly(dir, ts, HttpAnomaly.BAD_CHUNK_SIZE);
          this.enterResync(h);
          return;
        }
        const size = parseInt(sizeText, 16);
        if (size === 0) h.state = 'trailers';
        else { h.remaining = size; h.state = 'chunk-data'; }
        return;
      }
      case 'chunk-crlf':
        if (text !== '') {
          this.anomaly(dir, ts, HttpAnomaly.CHUNK_WITHOUT_CRLF);
          this.enterResync(h);
          return;
        }
        h.state = 'chunk-size';
        return;
      case 'trailers':
        if (text === '') this.finish(dir, h, ts);
        return;
      default:
        return;
    }
  }

  private headComplete(dir: Direction, h: HttpHalf, ts: Picos): void {
    const head = h.head!;
    if (head.isRequest) {
      if (h.pending.length >= HTTP_LIMITS.maxPending) {
        h.pending.shift();
        this.anomaly(dir, ts, HttpAnomaly.TOO_MANY_PENDING, { limit: HTTP_LIMITS.maxPending });
      }
      h.pending.push({ method: head.method, path: head.path, ts: h.msgTs });
      if (head.otherTransferCoding) {
        this.anomaly(dir, ts, HttpAnomaly.UNSUPPORTED_TRANSFER_CODING);
        this.enterResync(h);
        return;
      }
      const jsonFits = head.chunked || (head.contentLength > 0 && head.contentLength <= HTTP_LIMITS.maxJsonBody);
      if (jsonFits && isJsonContentType(head.contentType)) h.jsonActive = true;
      this.startBody(dir, h, head.chunked, head.contentLength > 0 ? head.contentLength : 0, ts);
      return;
    }
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      h.resetMessage(); // interim response (100 Continue): the final one follows
      h.state = 'start';
      return;
    }
    h.paired = this.halves[dir === 'c2s' ? 's2c' : 'c2s'].pending.shift();
    const method = h.paired?.method;
    const tunnel = head.status === 101 || (method === 'CONNECT' && head.status >= 200 && head.status < 300);
    if (tunnel) {
      h.noBody = true;
      this.finish(dir, h, ts);
      this.halves.c2s.state = 'stopped'; // the connection now speaks another protocol
      this.halves.s2c.state = 'stopped';
      return;
    }
    if (method === 'HEAD' || NO_BODY_STATUS(head.status)) {
      h.noBody = true;
      this.finish(dir, h, ts);
      return;
    }
    if (head.chunked || head.contentLength >= 0) {
      this.startBody(dir, h, head.chunked, head.contentLength, ts);
      return;
    }
    h.state = 'until-close';
  }

  private startBody(dir: Direction, h: HttpHalf, chunked: boolean, length: number, ts: Picos): void {
    if (chunked) h.state = 'chunk-size';
    else if (length > 0) { h.remaining = length; h.state = 'body'; }
    else this.finish(dir, h, ts);
  }

  private bodyData(h: HttpHalf, bytes: Uint8Array, start: number, end: number): void {
    h.bodyBytes += end - start;
    if (h.jsonActive && !h.json.append(bytes, start, end)) h.jsonActive = false; // too big: keys unknown
  }

  private finish(dir: Direction, h: HttpHalf, tsEnd: Picos): void {
    const head = h.head;
    if (head !== null) {
      const [src, dst] = dir === 'c2s' ? [this.flow.client, this.flow.server] : [this.flow.server, this.flow.client];
      // Body bytes on the wire (a HEAD response's Content-Length describes another message).
      const contentLength = h.noBody ? 0 : head.chunked || head.contentLength < 0 ? h.bodyBytes : head.contentLength;
      const base = { protocol: 'http' as const, ts: h.msgTs, tsEnd, flowId: this.flow.id, src, dst, contentLength };
      if (head.isRequest) {
        const msg: HttpRequest = { ...base, kind: 'request', method: head.method, path: head.path };
        if (head.host !== undefined) msg.host = head.host;
        if (h.jsonActive) {
          const facts = jsonBodyFacts(h.json.view());
          if (facts !== null) {
            msg.jsonKeys = facts.jsonKeys;
            if (facts.migrateLiveHost !== undefined) msg.migrateLiveHost = facts.migrateLiveHost;
          }
        }
        this.emit(msg);
      } else {
        const msg: HttpResponse = { ...base, kind: 'response', status: head.status };
        if (h.paired !== undefined) {
          msg.requestMethod = h.paired.method;
          msg.requestPath = h.paired.path;
          msg.requestTs = h.paired.ts;
        }
        if (head.subjectToken) msg.subjectToken = true;
        this.emit(msg);
      }
    }
    h.resetMessage();
    h.state = 'start';
  }

  private enterResync(h: HttpHalf): void {
    h.resetMessage();
    h.line.clear();
    h.state = 'resync';
  }

  private anomaly(dir: Direction, ts: Picos, def: AnomalyDef, fields?: AnomalyFields): void {
    this.emit(streamAnomaly(this.flow, dir, def, ts, fields));
  }
}
