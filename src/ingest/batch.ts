import { PS_PER_S, type Picos } from '../core/time.js';
import type { CapturedPacket, LinkType, PacketSink, RecordSink } from './types.js';

/**
 * A batch of packets as struct-of-arrays: per packet the buffer that holds it, offset,
 * captured and wire length, link type, interface, and time as integer seconds +
 * picoseconds. Filling it allocates nothing once the arrays have grown to the batch
 * size (they are reused from batch to batch), so the file path makes no object, view or
 * BigInt per packet; a consumer builds those only for what it keeps (see `ts`, `packet`).
 */
export class PacketBatch {
  length = 0;
  buf: Uint8Array[] = [];
  off: Float64Array = new Float64Array(256);
  len: Uint32Array = new Uint32Array(256);
  wire: Uint32Array = new Uint32Array(256);
  linkType: Uint32Array = new Uint32Array(256);
  iface: Uint32Array = new Uint32Array(256);
  sec: Float64Array = new Float64Array(256);
  psec: Float64Array = new Float64Array(256);
  nic: (string | undefined)[] = [];
  mampid: (string | undefined)[] = [];
  /** Whether any packet of the batch carries DPMI names (else nic/mampid are stale). */
  named = false;
  /** sec → sec·10^12, for the last second asked: packets of one second share it. */
  private cachedSec = Number.NaN;
  private cachedSecPs = 0n;

  /** Appends one packet (a RecordSink). */
  readonly add: RecordSink = (buf, off, len, wireLength, linkType, iface, sec, psec, nic, mampid) => {
    const i = this.length;
    if (i === this.off.length) this.grow();
    this.buf[i] = buf;
    this.off[i] = off;
    this.len[i] = len;
    this.wire[i] = wireLength;
    this.linkType[i] = linkType;
    this.iface[i] = iface;
    this.sec[i] = sec;
    this.psec[i] = psec;
    if (nic !== undefined || this.named) {
      this.named = true;
      this.nic[i] = nic;
      this.mampid[i] = mampid;
    }
    this.length = i + 1;
  };

  clear(): void {
    this.length = 0;
    this.named = false;
  }

  /** Packet i's wire time in picoseconds (one BigInt add per packet, one multiply per second). */
  ts(i: number): Picos {
    const sec = this.sec[i]!;
    if (sec !== this.cachedSec) {
      this.cachedSec = sec;
      this.cachedSecPs = BigInt(sec) * PS_PER_S;
    }
    return this.cachedSecPs + BigInt(this.psec[i]!);
  }

  /** True when packet i is earlier than packet j of batch `o` (ties: false). */
  before(i: number, o: PacketBatch, j: number): boolean {
    const a = this.sec[i]!, b = o.sec[j]!;
    return a < b || (a === b && this.psec[i]! < o.psec[j]!);
  }

  /** Packet i as an object (a view and a BigInt): for consumers that keep packets. */
  packet(i: number): CapturedPacket {
    const off = this.off[i]!;
    const p: CapturedPacket = {
      ts: this.ts(i), data: this.buf[i]!.subarray(off, off + this.len[i]!), wireLength: this.wire[i]!,
      linkType: this.linkType[i]!, iface: this.iface[i]!,
    };
    if (this.named && this.nic[i] !== undefined) {
      p.nic = this.nic[i];
      p.mampid = this.mampid[i];
    }
    return p;
  }

  private grow(): void {
    const n = this.off.length * 2;
    const f64 = (a: Float64Array): Float64Array => { const b = new Float64Array(n); b.set(a); return b; };
    const u32 = (a: Uint32Array): Uint32Array => { const b = new Uint32Array(n); b.set(a); return b; };
    this.off = f64(this.off);
    this.sec = f64(this.sec);
    this.psec = f64(this.psec);
    this.len = u32(this.len);
    this.wire = u32(this.wire);
    this.linkType = u32(this.linkType);
    this.iface = u32(this.iface);
  }
}

/** A RecordSink that builds a CapturedPacket per packet (tests, tools that keep packets). */
export function recordsTo(sink: PacketSink): RecordSink {
  return (buf, off, len, wireLength, linkType: LinkType, iface, sec, psec, nic, mampid) => {
    const p: CapturedPacket = {
      ts: BigInt(sec) * PS_PER_S + BigInt(psec), data: buf.subarray(off, off + len), wireLength, linkType, iface,
    };
    if (nic !== undefined) p.nic = nic;
    if (mampid !== undefined) p.mampid = mampid;
    sink(p);
  };
}

/** Splits a picosecond time into the (seconds, picoseconds) a RecordSink takes. */
export function secPsecOf(ts: Picos): [sec: number, psec: number] {
  let sec = ts / PS_PER_S;
  let psec = ts % PS_PER_S;
  if (psec < 0n) { psec += PS_PER_S; sec -= 1n; }
  return [Number(sec), Number(psec)];
}
