import type { Picos } from '../../core/time.js';
import { PS_PER_MS } from '../../core/time.js';
import type { Rng } from '../rng.js';
import { type GeneratedPacket, quantizeUp } from '../source.js';
import type { Host } from './ethernet-ip.js';
import {
  buildTcpFrame, type PayloadPiece, SEGMENT_PAYLOAD, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN,
} from './tcp-frame.js';

/** An application write: its bytes may leave at `t` at the earliest. */
export interface TcpMessage {
  t: Picos;
  bytes: Uint8Array;
  /** Marker name of the packet carrying this message's first byte. */
  marker?: string;
}

export type Side = 'client' | 'server';

export interface TcpClose {
  /** Earliest time of the first FIN/RST (it also waits for all data to leave). */
  at: Picos;
  by: Side;
  /** Abort with RST instead of the FIN exchange. */
  reset?: boolean;
  /** Marker of the first FIN (or the RST). */
  marker?: string;
}

export interface TcpConnectionPlan {
  client: Host;
  server: Host;
  clientPort: number;
  serverPort: number;
  synAt: Picos;
  synMarker?: string;
  clientMessages: Iterator<TcpMessage>;
  serverMessages: Iterator<TcpMessage>;
  close: TcpClose;
  /**
   * Response delays as the capture sees them: the MP sits on the client's (source
   * host's) link, so the server's answers come a network round trip after the packet
   * that caused them, the client's after its local processing time.
   */
  clientDelay: Picos;
  serverDelay: Picos;
  linkBps: number;
  resolution: Picos;
  rng: Rng;
  /** Called with each data segment's payload length (for stream byte accounting). */
  onPayload?: (side: Side, length: number) => void;
}

interface Cur {
  msg: TcpMessage;
  off: number;
}

interface SideState {
  host: Host;
  port: number;
  isn: number;
  sent: number;
  finSent: boolean;
  iter: Iterator<TcpMessage>;
  cur: Cur | undefined;
  peeked: TcpMessage | undefined;
  exhausted: boolean;
  cursor: Picos;
  ackAt: Picos | undefined;
  lastAck: number;
  ipId: number;
  tsBase: number;
  lastPeerTsval: number;
  delay: Picos;
}

const WINDOW = 0xffff;
const SYN_WINDOW = 64240;

/**
 * Simulates one TCP connection as seen on the source host's link: handshake, data
 * segmented at 1448 bytes and paced at the link rate, cumulative ACKs (piggybacked when
 * the receiver sends, otherwise one pure ACK per delay, never a duplicate), FIN
 * exchange or RST. seq/ack/checksums are exact, so tshark's TCP analysis finds
 * nothing to flag. Lazy: the message iterators are pulled only as segments leave.
 */
export function* tcpConnection(plan: TcpConnectionPlan): Generator<GeneratedPacket> {
  const R = plan.resolution;
  let last = -1n;
  const stamp = (t: Picos): Picos => {
    let ts = quantizeUp(t, R);
    if (ts <= last) ts = last + R;
    last = ts;
    return ts;
  };
  const mkSide = (host: Host, port: number, iter: Iterator<TcpMessage>, delay: Picos): SideState => ({
    host, port, isn: plan.rng.u32(), sent: 0, finSent: false, iter, cur: undefined, peeked: undefined,
    exhausted: false, cursor: 0n, ackAt: undefined, lastAck: 0, ipId: plan.rng.u32() & 0xffff,
    tsBase: plan.rng.u32() >>> 1, lastPeerTsval: 0, delay,
  });
  const c = mkSide(plan.client, plan.clientPort, plan.clientMessages, plan.clientDelay);
  const s = mkSide(plan.server, plan.serverPort, plan.serverMessages, plan.serverDelay);
  const peerOf = (x: SideState): SideState => (x === c ? s : c);
  const ackOf = (x: SideState): number => {
    const p = peerOf(x);
    return (p.isn + 1 + p.sent + (p.finSent ? 1 : 0)) >>> 0;
  };
  const wireTime = (frameLen: number): Picos =>
    // preamble + SFD + FCS + inter-frame gap = 24 bytes besides the frame
    BigInt(Math.ceil(((frameLen + 24) * 8 * 1e12) / plan.linkBps));
  const tsvalOf = (x: SideState, ts: Picos): number => (x.tsBase + Number(ts / PS_PER_MS)) >>> 0;

  const segment = (x: SideState, ts: Picos, flags: number, pieces: PayloadPiece[], len: number, seqOverride?: number): Uint8Array => {
    const p = peerOf(x);
    const tsval = tsvalOf(x, ts);
    const frame = buildTcpFrame(
      {
        src: x.host, dst: p.host, srcPort: x.port, dstPort: p.port,
        seq: seqOverride ?? (x.isn + 1 + x.sent + (x.finSent ? 1 : 0)) >>> 0, ack: ackOf(x), flags,
        window: (flags & TCP_SYN) !== 0 ? SYN_WINDOW : WINDOW, ipId: x.ipId, tsval, tsecr: x.lastPeerTsval,
      },
      pieces, len,
    );
    x.ipId = (x.ipId + 1) & 0xffff;
    p.lastPeerTsval = tsval;
    x.lastAck = ackOf(x);
    x.ackAt = undefined;
    x.cursor = ts + wireTime(frame.length);
    return frame;
  };

  // Handshake.
  const synTs = stamp(plan.synAt);
  const synFrame = segment(c, synTs, TCP_SYN, [], 0, c.isn);
  yield { ts: synTs, frame: synFrame, ...(plan.synMarker ? { markers: [plan.synMarker] } : {}) };
  const synAckTs = stamp(synTs + s.delay);
  yield { ts: synAckTs, frame: segment(s, synAckTs, TCP_SYN | TCP_ACK, [], 0, s.isn) };
  const ackTs = stamp(synAckTs + c.delay);
  yield { ts: ackTs, frame: segment(c, ackTs, TCP_ACK, [], 0) };

  const fill = (x: SideState): TcpMessage | undefined => {
    while (!x.cur || x.cur.off >= x.cur.msg.bytes.length) {
      const m = takeNext(x);
      if (!m) return undefined;
      x.cur = { msg: m, off: 0 };
    }
    return x.cur.msg;
  };
  const takeNext = (x: SideState): TcpMessage | undefined => {
    if (x.peeked) {
      const m = x.peeked;
      x.peeked = undefined;
      return m;
    }
    if (x.exhausted) return undefined;
    const r = x.iter.next();
    if (r.done) {
      x.exhausted = true;
      return undefined;
    }
    return r.value;
  };
  const peekNext = (x: SideState): TcpMessage | undefined => {
    if (!x.peeked && !x.exhausted) {
      const r = x.iter.next();
      if (r.done) x.exhausted = true;
      else x.peeked = r.value;
    }
    return x.peeked;
  };
  const dataAt = (x: SideState): Picos | undefined => {
    const m = fill(x);
    if (!m) return undefined;
    const t = x.cur!.off === 0 ? m.t : x.cursor;
    return t > x.cursor ? t : x.cursor;
  };

  const sendData = (x: SideState, ts: Picos): GeneratedPacket => {
    const pieces: PayloadPiece[] = [];
    const markers: string[] = [];
    let len = 0;
    let push = false;
    while (len < SEGMENT_PAYLOAD) {
      const cur = x.cur!;
      const n = Math.min(SEGMENT_PAYLOAD - len, cur.msg.bytes.length - cur.off);
      if (cur.off === 0 && cur.msg.marker) markers.push(cur.msg.marker);
      pieces.push({ bytes: cur.msg.bytes, offset: cur.off, length: n });
      cur.off += n;
      len += n;
      if (cur.off < cur.msg.bytes.length) break;
      // Message fully in this segment: coalesce the next write if it is already queued.
      const nxt = peekNext(x);
      if (!nxt || nxt.t > ts || len >= SEGMENT_PAYLOAD) {
        push = !nxt || nxt.t > ts;
        break;
      }
      x.cur = { msg: takeNext(x)!, off: 0 };
    }
    const frame = segment(x, ts, TCP_ACK | (push ? TCP_PSH : 0), pieces, len);
    x.sent += len;
    plan.onPayload?.(x === c ? 'client' : 'server', len);
    const p = peerOf(x);
    if (p.ackAt === undefined) p.ackAt = ts + p.delay;
    return markers.length > 0 ? { ts, frame, markers } : { ts, frame };
  };

  // Data phase: earliest of the two senders' next segment and their pending ACKs.
  for (;;) {
    const dc = dataAt(c);
    const ds = dataAt(s);
    let best: Picos | undefined;
    let kind: 'dc' | 'ds' | 'ac' | 'as' | undefined;
    const consider = (t: Picos | undefined, k: 'dc' | 'ds' | 'ac' | 'as'): void => {
      if (t !== undefined && (best === undefined || t < best)) {
        best = t;
        kind = k;
      }
    };
    consider(dc, 'dc');
    consider(ds, 'ds');
    if (dc === undefined && ds === undefined) {
      // Only ACKs left: those due before the close go out, the FIN carries the rest.
      const closeAt = plan.close.at > last ? plan.close.at : last + R;
      if (c.ackAt !== undefined && c.ackAt < closeAt) consider(c.ackAt, 'ac');
      if (s.ackAt !== undefined && s.ackAt < closeAt) consider(s.ackAt, 'as');
      if (kind === undefined) break;
    } else {
      consider(c.ackAt, 'ac');
      consider(s.ackAt, 'as');
    }
    const ts = stamp(best!);
    if (kind === 'dc') yield sendData(c, ts);
    else if (kind === 'ds') yield sendData(s, ts);
    else {
      const x = kind === 'ac' ? c : s;
      if (ackOf(x) !== x.lastAck) yield { ts, frame: segment(x, ts, TCP_ACK, [], 0) };
      else x.ackAt = undefined;
    }
  }

  // Close.
  const closer = plan.close.by === 'client' ? c : s;
  const other = peerOf(closer);
  const closeTs = stamp(plan.close.at);
  const mk = plan.close.marker ? { markers: [plan.close.marker] } : {};
  if (plan.close.reset) {
    yield { ts: closeTs, frame: segment(closer, closeTs, TCP_RST | TCP_ACK, [], 0), ...mk };
    return;
  }
  const fin1 = segment(closer, closeTs, TCP_FIN | TCP_ACK, [], 0);
  closer.finSent = true;
  yield { ts: closeTs, frame: fin1, ...mk };
  const fin2Ts = stamp(closeTs + other.delay);
  const fin2 = segment(other, fin2Ts, TCP_FIN | TCP_ACK, [], 0);
  other.finSent = true;
  yield { ts: fin2Ts, frame: fin2 };
  const lastAckTs = stamp(fin2Ts + closer.delay);
  yield { ts: lastAckTs, frame: segment(closer, lastAckTs, TCP_ACK, [], 0) };
}

/** Microseconds → picoseconds (plan constants). */
export const us = (n: number): Picos => BigInt(Math.round(n * 1e6));
export const seconds = (n: number): Picos => BigInt(Math.round(n * 1e12));
