import type { PacketClock, Picos } from '../../core/time.js';
import type { Direction, FlowInfo } from '../../decode/types.js';
import { QemuAnomaly } from './anomaly-codes.js';
import type { Emit } from '../types.js';
import { NEED_MORE } from './feeder.js';
import { u32, u64 } from './bytes.js';
import { SourceStreamDecoder } from './source-decoder.js';
import {
  MULTIFD_COMPRESSION_MASK, MULTIFD_FLAG_SYNC, MULTIFD_INIT_BYTES, MULTIFD_MAGIC, MULTIFD_PACKET_HEADER_BYTES,
  MULTIFD_VERSION,
} from './types.js';

const enum Mode { Init, Packet }

/** Largest pages_alloc accepted: 512 KiB packets of 512-byte pages (QEMU uses 128 of 4 KiB). */
const MAX_PAGES_ALLOC = 1024;
/** Item parsed in one piece: the fixed packet header and the first page offset. */
const MAX_ITEM = MULTIFD_PACKET_HEADER_BYTES + 8;

/**
 * One multifd channel (QEMU `multifd` capability): a TCP connection of its own that
 * opens with MultiFDInit_t, then carries MultiFDPacket_t headers each followed by its
 * page offsets and page data. Layout of QEMU 7.2 (MULTIFD_VERSION 1, migration/multifd.c):
 * - init, 64 bytes: u32 magic 0x11223344, u32 version, 16-byte uuid, u8 channel id,
 *   7 + 32 reserved bytes;
 * - packet: u32 magic, u32 version, u32 flags (bit 0 SYNC, bits 1–3 compression),
 *   u32 pages_alloc, u32 normal_pages, u32 next_packet_size, u64 packet_num,
 *   32 reserved bytes, char ramblock[256], u64 offset[pages_alloc]; then
 *   next_packet_size bytes of page data (normal_pages × page size uncompressed; none when
 *   normal_pages is 0).
 * packet_num is global across channels: it orders the pages of all channels.
 * Anything else (other versions, e.g. the zero-page fields of 9.0) is rejected with an
 * anomaly and the channel is no longer decoded.
 */
export class MultifdChannelDecoder extends SourceStreamDecoder {
  private mode = Mode.Init;
  private ended = false;
  private channel = -1;
  private packets = 0;
  private pages = 0;

  constructor(flow: FlowInfo, emit: Emit) {
    super(flow, emit, MAX_ITEM);
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    if (this.walkable(dir, bytes)) this.walk(bytes, ts, QemuAnomaly.MULTIFD_NO_PROGRESS);
  }

  dataAt(dir: Direction, buf: Uint8Array, start: number, end: number, at: PacketClock): void {
    if (dir === 'c2s' && !this.dead && end > start) this.walkAt(buf, start, end, at, QemuAnomaly.MULTIFD_NO_PROGRESS);
  }

  gap(dir: Direction, length: number, ts: Picos): void {
    if (dir !== 'c2s' || this.dead) return;
    if (this.feeder.pending === 0 && this.feeder.skip >= length) {
      this.feeder.skip -= length; // inside page data: still in step
      this.feeder.offset += length;
    } else {
      this.fail(QemuAnomaly.MULTIFD_GAP_IN_HEADER, ts, { length });
    }
  }

  end(dir: Direction, ts: Picos): void {
    if (dir !== 'c2s' || this.dead || this.ended || this.mode === Mode.Init) return;
    this.ended = true;
    this.out({
      kind: 'multifd-end', channel: this.channel, packets: this.packets, pages: this.pages,
      streamBytes: this.feeder.offset + this.feeder.pending,
    }, ts);
  }

  protected step(b: Uint8Array, p: number, end: number, ts: Picos): number {
    if (end - p < 8) return NEED_MORE;
    const magic = u32(b, p);
    const version = u32(b, p + 4);
    if (magic !== MULTIFD_MAGIC) return this.fail(QemuAnomaly.MULTIFD_BAD_MAGIC, ts, { magic, offset: this.feeder.offset });
    if (version !== MULTIFD_VERSION) return this.fail(QemuAnomaly.MULTIFD_BAD_VERSION, ts, { version });
    if (this.mode === Mode.Init) {
      if (end - p < MULTIFD_INIT_BYTES) return NEED_MORE;
      this.channel = b[p + 24]!;
      this.mode = Mode.Packet;
      this.out({ kind: 'multifd-channel', channel: this.channel, streamBytes: MULTIFD_INIT_BYTES }, ts);
      return MULTIFD_INIT_BYTES;
    }
    if (end - p < MAX_ITEM) return NEED_MORE;
    const flags = u32(b, p + 8);
    const alloc = u32(b, p + 12);
    const normal = u32(b, p + 16);
    const size = u32(b, p + 20);
    const packetNum = u64(b, p + 24);
    if (alloc === 0 || alloc > MAX_PAGES_ALLOC) return this.fail(QemuAnomaly.MULTIFD_BAD_PAGES_ALLOC, ts, { pagesAlloc: alloc });
    if (normal > alloc) return this.fail(QemuAnomaly.MULTIFD_PAGES_OVER_ALLOC, ts, { pages: normal, pagesAlloc: alloc });
    const compression = flags & MULTIFD_COMPRESSION_MASK;
    if ((flags & ~(MULTIFD_FLAG_SYNC | MULTIFD_COMPRESSION_MASK)) !== 0) return this.fail(QemuAnomaly.MULTIFD_UNKNOWN_FLAGS, ts, { flags });
    // 7.2's `uint64_t unused[4]`: 9.0 keeps MULTIFD_VERSION 1 but puts zero_pages there
    // (and their offsets after the normal ones), which this decoder would silently drop.
    for (let i = 32; i < 64; i += 4) {
      const value = u32(b, p + i);
      if (value !== 0) return this.fail(QemuAnomaly.MULTIFD_RESERVED_NOT_ZERO, ts, { value });
    }
    if (compression === 0 && normal > 0 && (size % normal !== 0 || !isPageSize(size / normal))) {
      return this.fail(QemuAnomaly.MULTIFD_BAD_DATA_SIZE, ts, { size, pages: normal });
    }
    const block = normal > 0 ? blockName(b, p + 64) : '';
    if (block === undefined) return this.fail(QemuAnomaly.MULTIFD_BAD_RAMBLOCK_NAME, ts);
    const headerLen = MULTIFD_PACKET_HEADER_BYTES + 8 * alloc;
    this.packets++;
    this.pages += normal;
    // Without pages no data follows, whatever next_packet_size says: QEMU 7.2 leaves the
    // previous packet's value there when a sync request found the channel busy (it then
    // sends the data packet with the SYNC flag and the sync's packet_num, and a bare
    // header after it), and its receiver reads data only for normal_pages > 0.
    const bytes = headerLen + (normal > 0 ? size : 0);
    this.out({
      kind: 'multifd-packet', channel: this.channel, packetNum, sync: (flags & MULTIFD_FLAG_SYNC) !== 0,
      compression: compression >>> 1, pages: normal, block, firstOffset: normal > 0 ? u64(b, p + MULTIFD_PACKET_HEADER_BYTES) : 0,
      bytes, streamBytes: this.feeder.offset + bytes,
    }, ts);
    this.feeder.skip = bytes - MAX_ITEM;
    return MAX_ITEM;
  }

}

function isPageSize(n: number): boolean {
  return n >= 512 && n <= 65536 && (n & (n - 1)) === 0;
}

/** The NUL-terminated RAMBlock idstr of a packet (256 bytes), or undefined if not printable. */
function blockName(b: Uint8Array, p: number): string | undefined {
  let s = '';
  for (let i = 0; i < 256; i++) {
    const c = b[p + i]!;
    if (c === 0) return i === 0 ? undefined : s;
    if (c < 0x20 || c > 0x7e) return undefined;
    s += String.fromCharCode(c);
  }
  return undefined;
}
