import { PS_PER_S } from '../../core/time.js';
import type { RecordSink } from '../types.js';
import { secPsecOf } from '../batch.js';
import { PCAPNG_BOM, PCAPNG_EPB, PCAPNG_IDB, PCAPNG_SHB, PCAPNG_SPB } from './pcapng-writer.js';
import { PushParser, type StepResult } from './push-parser.js';

const PCAPNG_OPB = 0x00000002; // obsolete Packet Block (old Wireshark files)
/** Largest block we assemble; a bigger length field is corruption, not data. */
const MAX_BLOCK = 4 << 20;
const MAX_INTERFACES = 4096;

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
 * length ends the parse (pcapng has no way to find the next block), counted.
 */
export class PcapngReader extends PushParser {
  readonly format = 'pcapng' as const;
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
    let type = dv.getUint32(off, this.le);
    if (type === PCAPNG_SHB) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === PCAPNG_BOM) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else {
        this.stop(`pcapng section header with bad byte-order magic 0x${bom.toString(16)}`);
        return avail;
      }
    } else if (!this.inSection) {
      this.stop('not a pcapng file (no section header block first)');
      return avail;
    }
    type = dv.getUint32(off, this.le);
    const len = dv.getUint32(off + 4, this.le);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
      this.stop(`pcapng block of type 0x${type.toString(16)} with impossible length ${len}`);
      return avail;
    }
    if (avail < len) return -len;
    if (dv.getUint32(off + len - 4, this.le) !== len) {
      this.malformed(`pcapng block of type 0x${type.toString(16)}: trailing length differs from ${len}`);
      this.skipped(len);
      return len;
    }
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
