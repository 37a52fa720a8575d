import { MigscopeError } from '../../core/errors.js';
import { PS_PER_S } from '../../core/time.js';
import type { ByteSink } from '../types.js';
import {
  CAP_HEADER_SIZE,
  DPMI_VERSION_MAJOR,
  DPMI_VERSION_MINOR,
  FILE_HEADER_SIZE_07,
  FILE_MAGIC,
  MPID_SIZE,
  NAME_SIZE,
  writeCapHeader,
} from '../dpmi/layout.js';
import { DEFAULT_SNAPLEN, FileWriter, paddedName } from './writer-common.js';

const enc = new TextEncoder();

/** Builds a version 0.7 DPMI capture file header (+ comment) in the given byte order. */
export function dpmiFileHeader(mpid: string | undefined, comment: string | undefined, littleEndian: boolean): Uint8Array {
  const commentBytes = comment ? enc.encode(comment) : new Uint8Array(0);
  if (commentBytes.length > 0xffff) throw new MigscopeError('dpmi writer: comment longer than 65535 bytes');
  const out = new Uint8Array(FILE_HEADER_SIZE_07 + commentBytes.length);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, FILE_MAGIC, littleEndian);
  dv.setUint16(8, DPMI_VERSION_MAJOR, littleEndian);
  dv.setUint16(10, DPMI_VERSION_MINOR, littleEndian);
  dv.setUint16(12, FILE_HEADER_SIZE_07, littleEndian);
  dv.setUint16(14, commentBytes.length, littleEndian);
  out.set(paddedName(mpid, MPID_SIZE), 16);
  out.set(commentBytes, FILE_HEADER_SIZE_07);
  return out;
}

/**
 * DPMI capture file writer (version 0.7, picosecond timestamps). Little-endian by
 * default as on the x86 MPs; `littleEndian: false` writes a big-endian file (tests).
 */
export class DpmiFileWriter extends FileWriter {
  readonly format = 'dpmi' as const;
  readonly resolution = 1n;
  private readonly header = new Uint8Array(CAP_HEADER_SIZE);
  private readonly view = new DataView(this.header.buffer);
  private readonly nic: Uint8Array;
  private readonly mampid: Uint8Array;
  private readonly snaplen: number;
  private readonly littleEndian: boolean;

  constructor(
    sink: ByteSink,
    opts: { snaplen?: number; mampid?: string; nic?: string; comment?: string; littleEndian?: boolean } = {},
  ) {
    super(sink);
    this.littleEndian = opts.littleEndian ?? true;
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    this.nic = paddedName(opts.nic ?? 'd00', NAME_SIZE);
    this.mampid = paddedName(opts.mampid ?? 'mp', NAME_SIZE);
    sink.write(dpmiFileHeader(opts.mampid ?? 'mp', opts.comment, this.littleEndian));
  }

  write(ts: bigint, data: Uint8Array, wireLength?: number): void {
    const caplen = this.begin(ts, data, this.snaplen);
    if (ts / PS_PER_S > 0xffffffffn) throw new MigscopeError(`dpmi writer: timestamp ${ts} past 2106`);
    const wire = Math.max(wireLength ?? data.length, data.length);
    writeCapHeader(this.view, this.header, 0, this.nic, this.mampid, ts, wire, caplen, this.littleEndian);
    this.sink.write(this.header);
    this.packetData(data, caplen);
  }
}
