import { MigscopeError } from '../../core/errors.js';
import { PS_PER_S } from '../../core/time.js';
import { LinkType, type ByteSink } from '../types.js';
import { DEFAULT_SNAPLEN, FileWriter } from './writer-common.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;

/**
 * Classic libpcap file writer (little-endian, as libpcap writes on x86), µs or ns
 * timestamps. Timestamps are floored to the resolution.
 */
export class PcapWriter extends FileWriter {
  readonly format: 'pcap' | 'pcap-ns';
  readonly resolution: bigint;
  private readonly header = new Uint8Array(16);
  private readonly view = new DataView(this.header.buffer);
  private readonly snaplen: number;

  constructor(
    sink: ByteSink,
    nanosecond: boolean,
    opts: { snaplen?: number; linkType?: number } = {},
  ) {
    super(sink);
    this.format = nanosecond ? 'pcap-ns' : 'pcap';
    this.resolution = nanosecond ? 1_000n : 1_000_000n;
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    const fh = new Uint8Array(24);
    const dv = new DataView(fh.buffer);
    dv.setUint32(0, nanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setInt32(8, 0, true); // thiszone: timestamps are UTC
    dv.setUint32(12, 0, true); // sigfigs
    dv.setUint32(16, this.snaplen, true);
    dv.setUint32(20, opts.linkType ?? LinkType.Ethernet, true);
    sink.write(fh);
  }

  write(ts: bigint, data: Uint8Array, wireLength?: number): void {
    const caplen = this.begin(ts, data, this.snaplen);
    const sec = ts / PS_PER_S;
    if (sec > 0xffffffffn) throw new MigscopeError(`${this.format} writer: timestamp ${ts} past 2106`);
    const frac = (ts % PS_PER_S) / this.resolution;
    const wire = Math.max(wireLength ?? data.length, data.length);
    this.view.setUint32(0, Number(sec), true);
    this.view.setUint32(4, Number(frac), true);
    this.view.setUint32(8, caplen, true);
    this.view.setUint32(12, wire, true);
    this.sink.write(this.header);
    this.packetData(data, caplen);
  }
}
