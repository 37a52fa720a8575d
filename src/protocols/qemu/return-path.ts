import type { Picos } from '../../core/time.js';
import { u32 } from './bytes.js';
import { ReturnPathMessage } from './types.js';

/** Page requests remembered while waiting for their page (post-copy faults are few). */
const MAX_PENDING_REQUESTS = 4096;

/** A destination's page request (MIG_RP_MSG_REQ_PAGES[_ID]) as read off the return path. */
export interface PageRequestSeen { bytes: number; returnedBytes: number }

/** Requested pages served so far: how many, and their wait from request to arrival. */
export interface RequestLatency { served: number; mean: Picos; max: Picos }

/**
 * The return path of a migration stream (destination → source, `u16 type, u16 length,
 * body` messages): counts the destination's page requests and, when a requested page
 * then arrives on the main stream, its latency. Stops at a hole or an unknown type.
 */
export class ReturnPathReader {
  /** Header bytes of the message being read (16 for a page request: + u64 start, u32 length). */
  private readonly head: number[] = [];
  /** Bytes of the current message's body left to pass over. */
  private skip = 0;
  private lost = false;
  private returned = 0;
  /** Capture time of each requested page (by its offset) until it arrives. */
  private readonly requestedAt = new Map<number, Picos>();
  private readonly wait = { served: 0, total: 0n, max: 0n };

  /** Bytes of bookkeeping held (for the flow's memory budget). */
  get heldBytes(): number {
    return this.requestedAt.size * 60;
  }

  /** A hole in the return path: its framing can no longer be followed. */
  lose(): void {
    this.lost = true;
  }

  /** Return-path bytes; `onRequest` for each complete page request. */
  data(b: Uint8Array, ts: Picos, onRequest: (r: PageRequestSeen) => void): void {
    let p = 0;
    while (p < b.length && !this.lost) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, b.length - p);
        this.skip -= n;
        p += n;
        continue;
      }
      // Header and, for a page request, its u64 start and u32 length (the idstr is skipped).
      const want = this.head.length >= 4 && isPageRequest(this.head) ? 16 : 4;
      while (this.head.length < want && p < b.length) this.head.push(b[p++]!);
      if (this.head.length < want) return;
      const type = (this.head[0]! << 8) | this.head[1]!;
      const len = (this.head[2]! << 8) | this.head[3]!;
      if (type === 0 || type > ReturnPathMessage.ResumeAck) { this.lost = true; return; }
      if (want === 4 && isPageRequest(this.head)) {
        if (len < 12) { this.lost = true; return; }
        continue; // read its start and length first
      }
      const h = this.head;
      const requested = want === 16 ? ((h[12]! << 24) | (h[13]! << 16) | (h[14]! << 8) | h[15]!) >>> 0 : -1;
      if (requested >= 0 && this.requestedAt.size < MAX_PENDING_REQUESTS) {
        const start = u32(Uint8Array.from(h.slice(4, 8)), 0) * 4294967296 + u32(Uint8Array.from(h.slice(8, 12)), 0);
        if (!this.requestedAt.has(start)) this.requestedAt.set(start, ts);
      }
      this.skip = len - (want - 4);
      this.head.length = 0;
      this.returned += 4 + len;
      if (requested >= 0) onRequest({ bytes: requested, returnedBytes: this.returned });
    }
  }

  /** A page at `addr` arrived on the main stream at `ts`: if it was requested, its wait counts. */
  pageArrived(addr: number, ts: Picos): void {
    const asked = this.requestedAt.get(addr);
    if (asked === undefined) return;
    this.requestedAt.delete(addr);
    const wait = ts > asked ? ts - asked : 0n;
    this.wait.served++;
    this.wait.total += wait;
    if (wait > this.wait.max) this.wait.max = wait;
  }

  /** The requests served so far (undefined: none). */
  latency(): RequestLatency | undefined {
    const w = this.wait;
    return w.served > 0 ? { served: w.served, mean: w.total / BigInt(w.served), max: w.max } : undefined;
  }
}

function isPageRequest(h: readonly number[]): boolean {
  const type = (h[0]! << 8) | h[1]!;
  return type === ReturnPathMessage.ReqPages || type === ReturnPathMessage.ReqPagesId;
}
