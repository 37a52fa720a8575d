import { MigscopeError } from '../../core/errors.js';
import { PS_PER_S } from '../../core/time.js';
import { LinkType, type ByteSink } from '../types.js';
import { checkOpen, DEFAULT_SNAPLEN, FileWriter } from './writer-common.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_IDB = 0x00000001;
export const PCAPNG_SPB = 0x00000003;
export const PCAPNG_EPB = 0x00000006;
export const PCAPNG_BOM = 0x1a2b3c4d;

export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  name?: string;
  /**
   * if_tsresol byte: bit 7 clear = 10^-n s, set = 2^-n s. Default 9 (ns), which is
   * what the generic writer uses so tshark shows full precision.
   */
  tsresol?: number;
}

const enc = new TextEncoder();

function optionBytes(code: number, value: Uint8Array): Uint8Array {
  const padded = (value.length + 3) & ~3;
  const out = new Uint8Array(4 + padded);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, code, true);
  dv.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

function block(type: number, body: Uint8Array[]): Uint8Array {
  const bodyLen = body.reduce((n, b) => n + b.length, 0);
  const total = 12 + bodyLen;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, total, true);
  let off = 8;
  for (const b of body) {
    out.set(b, off);
    off += b.length;
  }
  dv.setUint32(total - 4, total, true);
  return out;
}

/** Units of one timestamp tick in picoseconds, or null when it is not a whole number of ps. */
export function tsresolUnitPs(tsresol: number): { num: bigint; den: bigint } {
  const n = BigInt(tsresol & 0x7f);
  // One tick = 1/base^n s = PS_PER_S / base^n ps (a fraction when base^n > 10^12).
  const base = (tsresol & 0x80) !== 0 ? 2n : 10n;
  return { num: PS_PER_S, den: base ** n };
}

/**
 * pcapng writer (little-endian): one section, one or more interfaces, Enhanced Packet
 * Blocks. The interface given to the constructor is interface 0.
 */
export class PcapngWriter extends FileWriter {
  readonly format = 'pcapng' as const;
  readonly resolution: bigint;
  private readonly ifaces: { snaplen: number; num: bigint; den: bigint }[] = [];
  private readonly epbHeader = new Uint8Array(28);
  private readonly epbView = new DataView(this.epbHeader.buffer);
  private readonly trailer = new Uint8Array(8);
  private readonly trailerView = new DataView(this.trailer.buffer);

  constructor(
    sink: ByteSink,
    opts: { snaplen?: number; linkType?: number; nic?: string; comment?: string; tsresol?: number } = {},
  ) {
    super(sink);
    const shbBody = new Uint8Array(16);
    const dv = new DataView(shbBody.buffer);
    dv.setUint32(0, PCAPNG_BOM, true);
    dv.setUint16(4, 1, true);
    dv.setUint16(6, 0, true);
    dv.setBigInt64(8, -1n, true); // section length unknown: we stream
    const opts2: Uint8Array[] = [optionBytes(4, enc.encode('migscope'))];
    if (opts.comment) opts2.push(optionBytes(1, enc.encode(opts.comment)));
    opts2.push(new Uint8Array(4));
    sink.write(block(PCAPNG_SHB, [shbBody, ...opts2]));
    const iface: PcapngInterface = { linkType: opts.linkType ?? LinkType.Ethernet, tsresol: opts.tsresol ?? 9 };
    if (opts.snaplen !== undefined) iface.snaplen = opts.snaplen;
    if (opts.nic !== undefined) iface.name = opts.nic;
    this.addInterface(iface);
    const u = this.ifaces[0]!;
    this.resolution = u.num % u.den === 0n ? u.num / u.den : 1n;
  }

  /** Adds an Interface Description Block; returns its interface id. */
  addInterface(iface: PcapngInterface): number {
    checkOpen(this.closed, this.format);
    const snaplen = iface.snaplen ?? DEFAULT_SNAPLEN;
    const tsresol = iface.tsresol ?? 9;
    const head = new Uint8Array(8);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, iface.linkType, true);
    dv.setUint32(4, snaplen, true);
    const opts: Uint8Array[] = [];
    if (iface.name) opts.push(optionBytes(2, enc.encode(iface.name)));
    if (tsresol !== 6) opts.push(optionBytes(9, Uint8Array.of(tsresol)));
    opts.push(new Uint8Array(4));
    this.sink.write(block(PCAPNG_IDB, [head, ...opts]));
    this.ifaces.push({ snaplen, ...tsresolUnitPs(tsresol) });
    return this.ifaces.length - 1;
  }

  write(ts: bigint, data: Uint8Array, wireLength?: number): void {
    this.writeOn(0, ts, data, wireLength);
  }

  /** Writes a packet on interface `ifaceId`; ts is floored to that interface's resolution. */
  writeOn(ifaceId: number, ts: bigint, data: Uint8Array, wireLength?: number): void {
    const iface = this.ifaces[ifaceId];
    if (!iface) throw new MigscopeError(`pcapng writer: no interface ${ifaceId}`);
    const caplen = this.begin(ts, data, iface.snaplen);
    const ticks = (ts * iface.den) / iface.num;
    if (ticks > 0xffff_ffff_ffff_ffffn) throw new MigscopeError(`pcapng writer: timestamp ${ts} overflows 64 bits`);
    const padded = (caplen + 3) & ~3;
    const total = 32 + padded;
    const dv = this.epbView;
    dv.setUint32(0, PCAPNG_EPB, true);
    dv.setUint32(4, total, true);
    dv.setUint32(8, ifaceId, true);
    dv.setUint32(12, Number(ticks >> 32n), true);
    dv.setUint32(16, Number(ticks & 0xffff_ffffn), true);
    dv.setUint32(20, caplen, true);
    dv.setUint32(24, Math.max(wireLength ?? data.length, data.length), true);
    this.sink.write(this.epbHeader);
    this.packetData(data, caplen);
    // Padding (≤ 3 zero bytes) and the trailing block length in one write.
    const pad = padded - caplen;
    this.trailerView.setUint32(0, 0);
    this.trailerView.setUint32(pad, total, true);
    this.sink.write(this.trailer.subarray(0, pad + 4));
  }
}
