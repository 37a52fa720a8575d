import type { CapturedPacket } from '../types.js';
import { fromSecPsec } from '../../core/time.js';
import {
  CONTROL_BYTES, OFF_CAPACITY, OFF_DROP_BYTES, OFF_DROP_RECORDS, OFF_HEAD, OFF_MAGIC, OFF_TAIL,
  REC_CAPLEN, REC_KIND, REC_LENGTH, REC_LINK_TYPE, REC_MAMPID, REC_NIC, REC_PSEC, REC_SEC, REC_SEQ,
  REC_WIRE_LENGTH, RECORD_HEADER_BYTES, RING_MAGIC, RecordKind, OFF_SEQ_FRONTIER,
} from './ring-layout.js';

/** Allocates and initialises one ring (capacity: data bytes, a power of two ≥ 4 KiB). */
export function createRing(capacity: number): Uint8Array {
  if (!Number.isInteger(capacity) || capacity < 4096 || capacity > 2 ** 30 || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two in [4096, 2^30], got ${capacity}`);
  }
  const ring = new Uint8Array(new SharedArrayBuffer(CONTROL_BYTES + capacity));
  const dv = new DataView(ring.buffer);
  dv.setUint32(OFF_MAGIC, RING_MAGIC, true);
  dv.setUint32(OFF_CAPACITY, capacity, true);
  return ring;
}

/** What the consumer calls per packet; `seq` is the capture-wide sequence number. */
export type RingSink = (pkt: CapturedPacket, seq: number) => void;

/**
 * The same, in place: the packet is data[off, off + len) of the ring's data region, its
 * time integer seconds + picoseconds (no BigInt per packet).
 */
export type RingRecordSink = (data: Uint8Array, off: number, len: number, wireLength: number, linkType: number,
  sec: number, psec: number, seq: number) => void;

/**
 * The consumer side of one ring. `data` of each packet is a view into the ring's
 * SharedArrayBuffer (no copy), valid during the sink call only: the tail is advanced
 * (and the bytes handed back to the producer) when the batch returns.
 */
export class RingConsumer {
  private readonly i32: Int32Array;
  private readonly dv: DataView;
  private readonly data: Uint8Array;
  private readonly mask: number;
  private tail: number;
  private eof = false;
  private readonly dataView: DataView;
  private readonly sab: SharedArrayBuffer;
  /** Byte offset of the data region in the SharedArrayBuffer. */
  private readonly dataOffset: number;
  /** The last packet's time, as the ring holds it (seconds, picoseconds). */
  private lastSec = 0;
  private lastPsec = 0;
  /** Last decoded DPMI names and their raw 8 bytes (as two u32), index 0 nic, 1 mampid. */
  private readonly nameLo = [-1, -1];
  private readonly nameHi = [-1, -1];
  private readonly names = ['', ''];
  /** Sequence number of the last packet handed to the sink. */
  lastSeq = -1;
  /** From the EOF record: the whole capture's last packet time (0n if it had none). */
  endTs = 0n;
  /** Wrap markers skipped so far (records never straddle the end of the ring). */
  wraps = 0;

  constructor(readonly ring: Uint8Array) {
    const sab = ring.buffer;
    if (!(sab instanceof SharedArrayBuffer)) throw new TypeError('ring must live in a SharedArrayBuffer');
    this.i32 = new Int32Array(sab, ring.byteOffset, CONTROL_BYTES / 4);
    this.dv = new DataView(sab, ring.byteOffset, ring.byteLength);
    if (this.dv.getUint32(OFF_MAGIC, true) !== RING_MAGIC) throw new TypeError('not a migscope ring');
    const capacity = this.dv.getUint32(OFF_CAPACITY, true);
    this.sab = sab;
    this.dataOffset = ring.byteOffset + CONTROL_BYTES;
    this.data = new Uint8Array(sab, ring.byteOffset + CONTROL_BYTES, capacity);
    this.dataView = new DataView(sab, ring.byteOffset + CONTROL_BYTES, capacity);
    this.mask = capacity - 1;
    this.tail = Atomics.load(this.i32, OFF_TAIL / 4) >>> 0;
  }

  get ended(): boolean { return this.eof; }

  /** Wire time of the last packet handed to the sink (0n before any): a BigInt made on demand only. */
  get lastTs(): bigint {
    return fromSecPsec(this.lastSec, this.lastPsec);
  }

  /** Records the producer could not write because this ring was full. */
  get droppedRecords(): number { return this.dv.getUint32(OFF_DROP_RECORDS, true); }
  get droppedBytes(): number { return this.dv.getUint32(OFF_DROP_BYTES, true); }

  /** True when the producer has published records we have not consumed. */
  hasData(): boolean {
    return (Atomics.load(this.i32, OFF_HEAD / 4) >>> 0) !== this.tail;
  }

  /**
   * Hands up to `max` packets to `sink` as objects (a view and a BigInt each), then
   * releases their bytes to the producer. Returns the number of packets delivered.
   */
  drain(sink: RingSink, max = 1024): number {
    return this.drainRecords((data, off, len, wireLength, linkType, sec, psec, seq) => {
      const pkt: CapturedPacket = { ts: fromSecPsec(sec, psec), data: new Uint8Array(this.sab, this.dataOffset + off, len), wireLength, linkType, iface: 0 };
      const rec = off - RECORD_HEADER_BYTES;
      if (data[rec + REC_NIC] !== 0) {
        pkt.nic = this.name(rec + REC_NIC, 0);
        pkt.mampid = this.name(rec + REC_MAMPID, 1);
      }
      sink(pkt, seq);
    }, max);
  }

  /**
   * Hands up to `max` packets to `sink` in place: each is ringData[off, off + len) of
   * the one `data` array over the ring (no object or view per packet), valid during the
   * call only. Then releases their bytes to the producer. Returns the packets delivered
   * (0 when empty or ended).
   */
  drainRecords(sink: RingRecordSink, max = 1024): number {
    if (this.eof) return 0;
    const head = Atomics.load(this.i32, OFF_HEAD / 4) >>> 0; // acquire: records up to head are complete
    const dv = this.dataView;
    let tail = this.tail;
    let n = 0;
    while (tail !== head && n < max) {
      const pos = tail & this.mask;
      const len = dv.getUint32(pos + REC_LENGTH, true);
      const kind = dv.getUint16(pos + REC_KIND, true);
      if (kind === RecordKind.Eof) {
        const sec = dv.getUint32(pos + REC_SEC, true) + dv.getUint32(pos + REC_SEC + 4, true) * 2 ** 32;
        const psec = dv.getUint32(pos + REC_PSEC, true) + dv.getUint32(pos + REC_PSEC + 4, true) * 2 ** 32;
        this.endTs = fromSecPsec(sec, psec);
        tail = (tail + len) >>> 0;
        this.eof = true;
        break;
      }
      if (kind === RecordKind.Packet) {
        const caplen = dv.getUint32(pos + REC_CAPLEN, true);
        const sec = dv.getUint32(pos + REC_SEC, true) + dv.getUint32(pos + REC_SEC + 4, true) * 2 ** 32;
        const psec = dv.getUint32(pos + REC_PSEC, true) + dv.getUint32(pos + REC_PSEC + 4, true) * 2 ** 32;
        const seq = dv.getUint32(pos + REC_SEQ, true) + dv.getUint32(pos + REC_SEQ + 4, true) * 2 ** 32;
        this.lastSec = sec;
        this.lastPsec = psec;
        this.lastSeq = seq;
        sink(this.data, pos + RECORD_HEADER_BYTES, caplen, dv.getUint32(pos + REC_WIRE_LENGTH, true),
          dv.getUint16(pos + REC_LINK_TYPE, true), sec, psec, seq);
        n++;
      }
      else if (kind === RecordKind.Wrap) this.wraps++;
      tail = (tail + len) >>> 0; // wrap markers just skip to the start
    }
    if (tail !== this.tail) {
      this.tail = tail;
      Atomics.store(this.i32, OFF_TAIL / 4, tail | 0); // release the bytes to the producer
    }
    return n;
  }

  /**
   * Sleeps until the head moves or `timeoutMs` passes. The capture thread cannot
   * Atomics.notify (V8 emulates futexes in-process), so this is a bounded poll.
   */
  wait(timeoutMs: number): void {
    const head = Atomics.load(this.i32, OFF_HEAD / 4);
    if ((head >>> 0) !== this.tail) return;
    Atomics.wait(this.i32, OFF_HEAD / 4, head, timeoutMs);
  }

  /** DPMI names are NUL-padded 8-byte fields; reuse the last string (they rarely change). */
  private name(off: number, slot: 0 | 1): string {
    const lo = this.dataView.getUint32(off, true);
    const hi = this.dataView.getUint32(off + 4, true);
    if (lo === this.nameLo[slot] && hi === this.nameHi[slot]) return this.names[slot] as string;
    let end = off;
    while (end < off + 8 && this.data[end] !== 0) end++;
    const s = String.fromCharCode(...this.data.subarray(off, end));
    this.nameLo[slot] = lo;
    this.nameHi[slot] = hi;
    this.names[slot] = s;
    return s;
  }
}

/**
 * The capture's sequence frontier from ring 0's control block: every packet numbered
 * below it has been published. `atLeast` (a sequence number known to be below the
 * frontier, e.g. the last one consumed, or -1) restores the bits above 32.
 */
export function readSeqFrontier(ring0: Uint8Array, atLeast: number): number {
  const i32 = new Int32Array(ring0.buffer, ring0.byteOffset, CONTROL_BYTES / 4);
  const low = Atomics.load(i32, OFF_SEQ_FRONTIER / 4) >>> 0;
  const base = atLeast + 1;
  const delta = (low - (base >>> 0) + 2 ** 32) % 2 ** 32;
  return base + delta;
}
