import { PS_PER_MS } from '../../core/time.js';
import { LinkType, type ByteSink } from '../types.js';
import { PcapWriter } from '../formats/pcap-writer.js';
import {
  checkOpen,
  checkTs,
  DEFAULT_SNAPLEN,
  newWriterStats,
  paddedName,
  parseMac,
  type CaptureWriterOptions,
  type StatsCaptureWriter,
  type WriterStats,
} from '../formats/writer-common.js';
import {
  CAP_HEADER_SIZE,
  DPMI_VERSION_MAJOR,
  DPMI_VERSION_MINOR,
  ETH_HEADER_SIZE,
  ETHERTYPE_DPMI,
  NAME_SIZE,
  SENDER_FLUSH,
  SENDHEAD_SIZE,
  SEQUENCE_MODULUS,
  writeCapHeader,
} from './layout.js';

const MIN_ETH_FRAME = 60;

/**
 * Writes what a consumer on the MP's multicast stream would capture: a nanosecond pcap
 * whose packets are DPMI measurement frames, each packing several capture records
 * (picosecond timestamps kept inside). A frame is sent when the next record would
 * not fit the MTU, or when the next packet comes more than `flushAfter` after the
 * frame's first record; the last frame carries SENDER_FLUSH.
 */
export class DpmiFramesWriter implements StatsCaptureWriter {
  readonly format = 'dpmi-frames' as const;
  readonly resolution = 1n;
  readonly stats: WriterStats = newWriterStats();
  private readonly outer: PcapWriter;
  private readonly frame: Uint8Array;
  private readonly view: DataView;
  private readonly nic: Uint8Array;
  private readonly mampid: Uint8Array;
  private readonly snaplen: number;
  private readonly flushAfter: bigint;
  private readonly maxCaplen: number;
  private used = ETH_HEADER_SIZE + SENDHEAD_SIZE;
  private records = 0;
  private firstTs = 0n;
  private lastTs = 0n;
  private sequence: number;
  private closed = false;

  constructor(sink: ByteSink, opts: CaptureWriterOptions = {}) {
    const f = opts.dpmiFrames ?? {};
    const mtu = f.mtu ?? 1500;
    this.maxCaplen = mtu - SENDHEAD_SIZE - CAP_HEADER_SIZE;
    if (this.maxCaplen < 1) throw new RangeError(`dpmi-frames: MTU ${mtu} too small`);
    this.frame = new Uint8Array(ETH_HEADER_SIZE + mtu);
    this.view = new DataView(this.frame.buffer);
    this.frame.set(parseMac(f.dstMac ?? '01:00:00:00:00:01'), 0);
    this.frame.set(parseMac(f.srcMac ?? '02:00:00:00:00:01'), 6);
    this.view.setUint16(12, ETHERTYPE_DPMI);
    this.nic = paddedName(opts.nic ?? 'd00', NAME_SIZE);
    this.mampid = paddedName(opts.mampid ?? 'mp', NAME_SIZE);
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    this.flushAfter = f.flushAfter ?? PS_PER_MS;
    this.sequence = (f.firstSequence ?? 0) % SEQUENCE_MODULUS;
    this.outer = new PcapWriter(sink, true, { snaplen: 65_535, linkType: LinkType.Ethernet });
  }

  write(ts: bigint, data: Uint8Array, wireLength?: number): void {
    checkOpen(this.closed, this.format);
    checkTs(ts, this.format);
    if (this.records > 0 && ts - this.firstTs > this.flushAfter) this.send(this.firstTs + this.flushAfter, 0);
    const caplen = Math.min(data.length, this.snaplen, this.maxCaplen);
    const wire = Math.max(wireLength ?? data.length, data.length);
    if (this.used + CAP_HEADER_SIZE + caplen > this.frame.length) this.send(this.lastTs, 0);
    writeCapHeader(this.view, this.frame, this.used, this.nic, this.mampid, ts, wire, caplen, true);
    this.frame.set(caplen === data.length ? data : data.subarray(0, caplen), this.used + CAP_HEADER_SIZE);
    this.used += CAP_HEADER_SIZE + caplen;
    if (this.records === 0) this.firstTs = ts;
    this.records++;
    this.lastTs = ts;
    this.stats.packets++;
    if (caplen < data.length) this.stats.cutPackets++;
  }

  /** Emits the pending frame (the flush frame may carry no records). */
  private send(at: bigint, flags: number): void {
    const dv = this.view;
    dv.setUint32(ETH_HEADER_SIZE, this.sequence);
    dv.setUint32(ETH_HEADER_SIZE + 4, this.records);
    dv.setUint32(ETH_HEADER_SIZE + 8, flags);
    dv.setUint16(ETH_HEADER_SIZE + 12, DPMI_VERSION_MAJOR);
    dv.setUint16(ETH_HEADER_SIZE + 14, DPMI_VERSION_MINOR);
    let len = this.used;
    if (len < MIN_ETH_FRAME) {
      this.frame.fill(0, len, MIN_ETH_FRAME);
      len = MIN_ETH_FRAME;
    }
    // The outer pcap has ns resolution: the frame's send time is floored to it.
    this.outer.write(at, this.frame.subarray(0, len));
    this.stats.frames++;
    this.sequence = (this.sequence + 1) % SEQUENCE_MODULUS;
    this.used = ETH_HEADER_SIZE + SENDHEAD_SIZE;
    this.records = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.send(this.lastTs, SENDER_FLUSH);
    this.outer.close();
  }
}
