import { PS_PER_S, WIRE_TIME_END } from '../../core/time.js';
import type { RecordSink } from '../types.js';
import { secPsecOf } from '../batch.js';
import { PCAPNG_BOM, PCAPNG_EPB, PCAPNG_IDB, PCAPNG_SHB, PCAPNG_SPB } from './pcapng-writer.js';
import { PushParser, type StepResult } from './push-parser.js';

const PCAPNG_OPB = 0x00000002; // obsolete Packet Block (old Wireshark files)
/** Largest block we assemble; a bigger length field is corruption, not data. */
const MAX_BLOCK = 4 << 20;
const MAX_INTERFACES = 4096;
/** Block types a resync scan accepts: SHB, IDB, PB, SPB, NRB, ISB, EPB, systemd journal, DSB, custom. */
const KNOWN_BLOCKS = new Set([PCAPNG_SHB, PCAPNG_IDB, 2, PCAPNG_SPB, 4, 5, PCAPNG_EPB, 9, 0x0a, 0xbad, 0x40000bad]);

interface Iface {
  linkType: number;
  snaplen: number;
  /** ts_ps = ticks * mul / div + offset */
  mul: bigint;
  div: bigint;
  offsetPs: bigint;
  name: string | undefined;
}

/**
 * pcapng reader: sections in either byte order, any number of interfaces with their
 * own link type, if_tsresol (powers of 10 and of 2) and if_tsoffset; EPB, SPB and the
 * obsolete PB carry packets, other blocks are skipped. A block with an impossible
 * length or a trailing length that differs is counted and the reader resynchronises on
 * the next block that checks out (see lost()).
 */
export class PcapngReader extends PushParser {
  readonly format = 'pcapng' as const;
  protected override resyncStride = 4;
  /** Blocks of types we do not need (NRB, ISB, custom…), skipped. */
  skippedBlocks = 0;
  sections = 0;
  private le = true;
  private inSection = false;
  private ifaces: Iface[] = [];
  /** The last packet's time as (seconds, picoseconds), for simple packet blocks. */
  private lastSec = 0;
  private lastPsec = 0;

  constructor(sink: RecordSink) {
    super(sink);
  }

  /** Interfaces of the current section (read-only view for callers). */
  get interfaces(): readonly Readonly<Iface>[] {
    return this.ifaces;
  }

  protected step(buf: Uint8Array, dv: DataView, off: number, avail: number): StepResult {
    if (avail < 12) return -12;
    const head = this.blockHead(dv, off);
    if (typeof head === 'string') {
      if (!this.inSection && !this.resyncing) {
        this.stop(head);
        return avail;
      }
      return this.lost(head, avail);
    }
    const { type, len, le } = head;
    if (this.resyncing && !KNOWN_BLOCKS.has(type)) return this.lost('', avail);
    if (avail < len) return this.resyncing && this.atEnd ? this.lost('', avail) : -(len + (this.resyncing ? 12 : 0));
    if (dv.getUint32(off + len - 4, le) !== len) {
      return this.lost(`pcapng block of type 0x${type.toString(16)}: trailing length differs from ${len}`, avail);
    }
    if (this.resyncing) {
      // The block's own trailer matched; the block after it must look like one too.
      const r = this.confirmCandidate(off, avail, len, 12, (next) => typeof this.blockHead(dv, next, le) !== 'string');
      if (r !== 0) return r;
      this.resyncing = false;
    }
    this.le = le;
    const delivered = this.stats.packets;
    switch (type) {
      case PCAPNG_SHB:
        this.section(dv, off, len);
        break;
      case PCAPNG_IDB:
        this.interfaceBlock(dv, off, len);
        break;
      case PCAPNG_EPB:
        this.packetBlock(buf, dv, off, len, 28, dv.getUint32(off + 8, this.le), 12);
        break;
      case PCAPNG_OPB:
        this.packetBlock(buf, dv, off, len, 28, dv.getUint16(off + 8, this.le), 12);
        break;
      case PCAPNG_SPB:
        this.simplePacket(buf, dv, off, len);
        break;
      default:
        this.skippedBlocks++;
        return len;
    }
    // A packet block that delivered no packet (bad interface, bad caplen) is dropped data.
    if (type !== PCAPNG_SHB && type !== PCAPNG_IDB && this.stats.packets === delivered) this.skipped(len);
    return len;
  }

  /**
   * Type, length and byte order of the block at `off` (an SHB brings its own order), or
   * why it cannot be a block. `le` is the byte order in force (the section's).
   */
  private blockHead(dv: DataView, off: number, le = this.le): { type: number; len: number; le: boolean } | string {
    let order = le;
    if (dv.getUint32(off, true) === PCAPNG_SHB) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === PCAPNG_BOM) order = true;
      else if (bom === 0x4d3c2b1a) order = false;
      else return `pcapng section header with bad byte-order magic 0x${bom.toString(16)}`;
    } else if (!this.inSection) {
      return 'not a pcapng file (no section header block first)';
    }
    const type = dv.getUint32(off, order);
    const len = dv.getUint32(off + 4, order);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) return `pcapng block of type 0x${type.toString(16)} with impossible length ${len}`;
    return { type, len, le: order };
  }

  /**
   * A block that cannot be read: counted once, then the reader scans forward 4 bytes at a
   * time (blocks are 32-bit aligned) for a block of a known type whose trailing length
   * matches and that is followed by another block (pcapng has no sync marker; the two
   * lengths and the next block are the evidence).
   */
  private lost(reason: string, avail: number): StepResult {
    if (!this.resyncing) this.malformed(reason);
    this.resyncing = true;
    const step = Math.min(this.resyncStride, avail);
    this.skipped(step);
    return step;
  }

  private section(dv: DataView, off: number, len: number): void {
    if (len < 28) return this.malformed('pcapng section header block too short');
    const major = dv.getUint16(off + 12, this.le);
    if (major !== 1) return this.stop(`pcapng major version ${major} not supported`);
    this.inSection = true;
    this.ifaces = [];
    this.sections++;
  }

  private interfaceBlock(dv: DataView, off: number, len: number): void {
    if (len < 20) return this.malformed('pcapng interface description block too short');
    if (this.ifaces.length >= MAX_INTERFACES) return this.malformed('too many pcapng interfaces');
    const iface: Iface = {
      linkType: dv.getUint16(off + 8, this.le),
      snaplen: dv.getUint32(off + 12, this.le),
      mul: 1_000_000n, // default resolution: µs
      div: 1n,
      offsetPs: 0n,
      name: undefined,
    };
    let p = off + 16;
    const end = off + len - 4;
    while (p + 4 <= end) {
      const code = dv.getUint16(p, this.le);
      const olen = dv.getUint16(p + 2, this.le);
      if (code === 0 || p + 4 + olen > end) break;
      if (code === 9 && olen >= 1) {
        const r = dv.getUint8(p + 4);
        const exp = BigInt(r & 0x7f);
        const base = (r & 0x80) !== 0 ? 2n : 10n;
        const ticksPerSec = base ** exp;
        if (ticksPerSec <= PS_PER_S && PS_PER_S % ticksPerSec === 0n) {
          iface.mul = PS_PER_S / ticksPerSec;
          iface.div = 1n;
        } else {
          iface.mul = PS_PER_S;
          iface.div = ticksPerSec;
        }
      } else if (code === 14 && olen >= 8) {
        iface.offsetPs = dv.getBigInt64(p + 4, this.le) * PS_PER_S;
      } else if (code === 2 && olen > 0) {
        let s = '';
        for (let i = 0; i < olen && i < 64; i++) {
          const c = dv.getUint8(p + 4 + i);
          if (c === 0) break;
          s += String.fromCharCode(c);
        }
        iface.name = s;
      }
      p += 4 + ((olen + 3) & ~3);
    }
    this.ifaces.push(iface);
  }

  private packetBlock(buf: Uint8Array, dv: DataView, off: number, len: number, dataAt: number, ifaceId: number, tsAt: number): void {
    if (len < dataAt + 4) return this.malformed('pcapng packet block too short');
    const iface = this.ifaces[ifaceId];
    if (!iface) return this.malformed(`pcapng packet on undeclared interface ${ifaceId}`);
    const caplen = dv.getUint32(off + dataAt - 8, this.le);
    const orig = dv.getUint32(off + dataAt - 4, this.le);
    if (caplen > len - dataAt - 4) return this.malformed(`pcapng packet caplen ${caplen} exceeds its block`);
    const ticks = (BigInt(dv.getUint32(off + tsAt, this.le)) << 32n) | BigInt(dv.getUint32(off + tsAt + 4, this.le));
    let ts = ticks * iface.mul;
    if (iface.div !== 1n) ts /= iface.div;
    if (iface.offsetPs !== 0n) ts += iface.offsetPs;
    if (ts < 0n || ts >= WIRE_TIME_END) this.stats.timesOutOfRange = (this.stats.timesOutOfRange ?? 0) + 1;
    [this.lastSec, this.lastPsec] = secPsecOf(ts);
    this.emit(buf, off + dataAt, caplen, Math.max(orig, caplen), iface.linkType, ifaceId, this.lastSec, this.lastPsec);
  }

  /** SPB: no timestamp (we reuse the previous packet's), captured length implied by the block. */
  private simplePacket(buf: Uint8Array, dv: DataView, off: number, len: number): void {
    const iface = this.ifaces[0];
    if (!iface || len < 16) return this.malformed('pcapng simple packet block without interface 0');
    const orig = dv.getUint32(off + 8, this.le);
    let caplen = Math.min(orig, len - 16);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    this.emit(buf, off + 12, caplen, Math.max(orig, caplen), iface.linkType, 0, this.lastSec, this.lastPsec);
  }
}
