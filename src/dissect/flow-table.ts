import type { PacketClock } from '../core/time.js';
import type { PacketView } from '../decode/packet-view.js';
import type { Endpoint, Transport } from '../decode/types.js';
import { symmetricHash } from './flow-hash.js';

/**
 * Connection lookup without building a key string per packet: a symmetric 32-bit keyed
 * hash of (addresses, ports, protocol) (flow-hash.ts: collisions cannot be chosen from
 * outside, so chains stay about one entry long) selects a chain of entries compared field by field.
 * Entries are also on a doubly linked LRU list ordered by last packet time, so idle
 * expiry and eviction pop from the head in O(1).
 * Allocation per packet: none for a known flow.
 */
export class FlowEntry {
  // Key: side A is the client (as decided when the flow was created).
  a0 = 0; a1 = 0; a2 = 0; a3 = 0; aPort = 0;
  b0 = 0; b1 = 0; b2 = 0; b3 = 0; bPort = 0;
  ipVersion = 4;
  proto = 0;
  hash = 0;
  nextInBucket: FlowEntry | null = null;
  lruPrev: FlowEntry | null = null;
  lruNext: FlowEntry | null = null;
  /** Wire time of the flow's last packet, as seconds + picoseconds (no bigint per packet). */
  lastSec = 0;
  lastPsec = 0;
  inTable = false;

  constructor(
    readonly id: number,
    readonly transport: Transport,
    readonly client: Endpoint,
    readonly server: Endpoint,
  ) {}
}

export class FlowTable<F extends FlowEntry> {
  private readonly buckets = new Map<number, F>();
  private head: F | null = null;
  private tail: F | null = null;
  size = 0;
  /** Set by `lookup`: true when the packet travels client → server. */
  lastWasC2s = true;
  /** Set by `find`: the packet's symmetricHash. */
  lastHash = 0;
  /** The flow `find` or `insert` saw last (in the table). */
  private recent: F | null = null;

  /**
   * The flow of this packet (pv already parsed), or null; sets `lastWasC2s`, and
   * `lastHash` (symmetricHash(pv), for an insert). The flow found last is tried first: a
   * bulk transfer's segments and ACKs follow one another, and then neither the keyed
   * hash nor the chain walk runs. One entry compared field by field, so whatever the
   * packets it costs what a lookup costs; it is a cache, the table stays the structure.
   */
  find(pv: PacketView): F | null {
    const r = this.recent;
    if (r !== null) {
      const dir = direction(r, pv);
      if (dir !== 0) {
        this.lastWasC2s = dir === C2S;
        this.lastHash = r.hash;
        return r;
      }
    }
    const hash = symmetricHash(pv);
    this.lastHash = hash;
    const e = this.lookup(pv, hash);
    if (e !== null) this.recent = e;
    return e;
  }

  /** The flow of this packet in the chain of `hash` = symmetricHash(pv), or null. */
  lookup(pv: PacketView, hash: number): F | null {
    let e = this.buckets.get(hash) ?? null;
    while (e !== null) {
      const dir = direction(e, pv);
      if (dir !== 0) {
        this.lastWasC2s = dir === C2S;
        return e;
      }
      e = e.nextInBucket as F | null;
    }
    return null;
  }

  /** Fill the key of a new entry from the packet; `srcIsClient` says which side is A. */
  static setKey(e: FlowEntry, pv: PacketView, hash: number, srcIsClient: boolean): void {
    e.ipVersion = pv.ipVersion; e.proto = pv.ipProto; e.hash = hash;
    if (srcIsClient) {
      e.a0 = pv.src0; e.a1 = pv.src1; e.a2 = pv.src2; e.a3 = pv.src3; e.aPort = pv.srcPort;
      e.b0 = pv.dst0; e.b1 = pv.dst1; e.b2 = pv.dst2; e.b3 = pv.dst3; e.bPort = pv.dstPort;
    } else {
      e.a0 = pv.dst0; e.a1 = pv.dst1; e.a2 = pv.dst2; e.a3 = pv.dst3; e.aPort = pv.dstPort;
      e.b0 = pv.src0; e.b1 = pv.src1; e.b2 = pv.src2; e.b3 = pv.src3; e.bPort = pv.srcPort;
    }
  }

  insert(e: F, sec: number, psec: number): void {
    e.nextInBucket = this.buckets.get(e.hash) ?? null;
    this.buckets.set(e.hash, e);
    e.inTable = true;
    e.lastSec = sec;
    e.lastPsec = psec;
    this.linkTail(e);
    this.size++;
    this.recent = e;
  }

  remove(e: F): void {
    if (!e.inTable) return;
    e.inTable = false;
    if (this.recent === e) this.recent = null;
    let prev: FlowEntry | null = null;
    let cur: FlowEntry | null = this.buckets.get(e.hash) ?? null;
    while (cur !== null && cur !== e) { prev = cur; cur = cur.nextInBucket; }
    if (cur !== null) {
      if (prev === null) {
        if (e.nextInBucket === null) this.buckets.delete(e.hash);
        else this.buckets.set(e.hash, e.nextInBucket as F);
      } else prev.nextInBucket = e.nextInBucket;
    }
    e.nextInBucket = null;
    this.unlink(e);
    this.size--;
  }

  /** A packet for this flow at the clock's time: now the most recently used. */
  touch(e: F, at: PacketClock): void {
    e.lastSec = at.sec;
    e.lastPsec = at.psec;
    if (this.tail === e) return;
    this.unlink(e);
    this.linkTail(e);
  }

  /** Least recently used flow, or null. */
  oldest(): F | null {
    return this.head;
  }

  /** All flows, oldest first (a snapshot: safe to remove while iterating). */
  all(): F[] {
    const out: F[] = [];
    for (let e = this.head; e !== null; e = e.lruNext as F | null) out.push(e);
    return out;
  }

  private linkTail(e: F): void {
    e.lruPrev = this.tail;
    e.lruNext = null;
    if (this.tail !== null) this.tail.lruNext = e; else this.head = e;
    this.tail = e;
  }

  private unlink(e: F): void {
    if (e.lruPrev !== null) e.lruPrev.lruNext = e.lruNext; else this.head = e.lruNext as F | null;
    if (e.lruNext !== null) e.lruNext.lruPrev = e.lruPrev; else this.tail = e.lruPrev as F | null;
    e.lruPrev = null;
    e.lruNext = null;
  }
}

const C2S = 1;
const S2C = 2;

/** Whether the packet belongs to entry `e`: C2S (source is its client), S2C, or 0. */
function direction(e: FlowEntry, pv: PacketView): number {
  if (e.proto !== pv.ipProto || e.ipVersion !== pv.ipVersion) return 0;
  if (e.aPort === pv.srcPort && e.bPort === pv.dstPort
    && e.a3 === pv.src3 && e.b3 === pv.dst3 && e.a2 === pv.src2 && e.b2 === pv.dst2
    && e.a1 === pv.src1 && e.b1 === pv.dst1 && e.a0 === pv.src0 && e.b0 === pv.dst0) return C2S;
  if (e.aPort === pv.dstPort && e.bPort === pv.srcPort
    && e.a3 === pv.dst3 && e.b3 === pv.src3 && e.a2 === pv.dst2 && e.b2 === pv.src2
    && e.a1 === pv.dst1 && e.b1 === pv.src1 && e.a0 === pv.dst0 && e.b0 === pv.src0) return S2C;
  return 0;
}
