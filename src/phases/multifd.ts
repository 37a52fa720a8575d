import type { MultifdPacket } from '../protocols/types.js';
import type { StreamSummary } from './events.js';

/** Packets held while waiting for a lower packet_num (channels race each other). */
const MAX_HELD = 4096;
/** Channels per migration (QEMU allows up to 255). */
const MAX_CHANNELS = 256;

interface Channel { id: number; bytes: number; init: number; pages: number; lastNum: number; ended: boolean }
interface Held { block: string; firstOffset: number; pages: number; sync: boolean; channel: number; num: number }

/**
 * One migration's multifd channels: their bytes, and the RAM passes their pages make.
 * QEMU numbers packets across all channels (packet_num), so the pages are put back in
 * the order QEMU queued them before the scanner's wrap-around (a page position lower
 * than the previous packet's) is looked for, as on the main stream.
 *
 * Where stop-and-copy begins on the channels: QEMU 7.2 ends every RAM chunk of the main
 * stream with a sync round on all channels, and writes the chunk's EOS only once every
 * channel has sent its sync packet. So packets numbered above the highest number seen
 * at the main stream's last RAM chunk before SECTION_END(ram) are stop-and-copy pages
 * (the main stream is buffered: its SECTION_END(ram) reaches the wire after them).
 */
export class MultifdAccount {
  private readonly channels = new Map<number, Channel>();
  private readonly held = new Map<number, Held>();
  private next = 0;
  private readonly blocks: string[] = [];
  private lastBlock = -1;
  private lastOffset = 0;
  private switched = false;
  /** Highest packet number seen when the main stream's last RAM chunk ended. */
  private boundary = -1;
  private maxNum = -1;
  /** Packets numbered since the last chunk boundary: number and bytes (bounded). */
  private sinceChunk: { num: number; bytes: number }[] = [];
  private passStartNum = -1;
  /** Sync-flagged packets of the current sync round, and the channel QEMU would use next. */
  private round: Held[] = [];
  private nextChannel = 0;
  /** Pre-copy passes seen on the channels (0 until the first page). */
  passes = 0;
  /** Packet bytes (header, offsets, pages) counted from the packets' messages. */
  packetBytes = 0;
  /** Packet bytes before the switch-over. */
  precopyPacketBytes = 0;
  pages = 0;

  /** Is this flow one of the channels? */
  has(flowId: number): boolean {
    return this.channels.has(flowId);
  }

  /** A channel opened (MultiFDInit_t, 64 bytes). False when there are too many. */
  open(flowId: number, id: number, initBytes: number): boolean {
    if (!this.channels.has(flowId) && this.channels.size >= MAX_CHANNELS) return false;
    this.channels.set(flowId, { id, bytes: initBytes, init: initBytes, pages: 0, lastNum: -1, ended: false });
    return true;
  }

  /** A packet; returns true when it (or one it released) started a new pre-copy pass. */
  packet(flowId: number, msg: MultifdPacket): boolean {
    const ch = this.channels.get(flowId);
    if (!ch) return false;
    ch.bytes = Math.max(ch.bytes, msg.streamBytes);
    ch.pages += msg.pages;
    this.packetBytes += msg.bytes;
    this.pages += msg.pages;
    this.maxNum = Math.max(this.maxNum, msg.packetNum);
    if (!this.switched) {
      this.precopyPacketBytes += msg.bytes;
      if (this.sinceChunk.length < MAX_HELD) this.sinceChunk.push({ num: msg.packetNum, bytes: msg.bytes });
    }
    ch.lastNum = Math.max(ch.lastNum, msg.packetNum);
    if (msg.packetNum < this.next || this.held.has(msg.packetNum)) return false; // a repeated number (a bare header)
    if (this.held.size >= MAX_HELD) this.skipToLowest();
    this.held.set(msg.packetNum, { block: msg.block, firstOffset: msg.firstOffset, pages: msg.pages, sync: msg.sync, channel: msg.channel, num: msg.packetNum });
    let started = this.release();
    // Each channel sends its packets in number order: a number below every channel's
    // latest will never come (QEMU 7.2 renumbers a data packet that a sync request
    // joined; or the packet was lost). Skip it.
    while (this.held.size > 0 && !this.held.has(this.next) && this.allPast(this.next)) {
      this.skipToLowest();
      started = this.release() || started;
    }
    return started;
  }

  private allPast(num: number): boolean {
    for (const c of this.channels.values()) if (c.lastNum <= num) return false;
    return true;
  }

  /** The channel closed: its exact byte count. */
  end(flowId: number, bytes: number): void {
    const ch = this.channels.get(flowId);
    if (ch) { ch.bytes = bytes; ch.ended = true; }
  }

  /** Have all channels closed (their exact bytes known)? */
  allEnded(): boolean {
    for (const c of this.channels.values()) if (!c.ended) return false;
    return true;
  }

  /** The main stream ended a RAM chunk (its EOS): the channels' sync round is through. */
  chunkEnded(): void {
    if (this.switched) return;
    this.boundary = this.maxNum;
    this.sinceChunk = [];
  }

  /**
   * SECTION_END(ram) on the main stream: packets after the last chunk's sync round were
   * stop-and-copy pages, and a pass they started was the stop-and-copy pass.
   */
  switchover(): void {
    if (this.switched) return;
    this.flush();
    this.switched = true;
    for (const p of this.sinceChunk) if (p.num > this.boundary) this.precopyPacketBytes -= p.bytes;
    this.sinceChunk = [];
    if (this.passStartNum > this.boundary && this.passes > 0) this.passes--;
  }

  /** Releases what is held regardless of gaps (at the switch-over and the end). */
  flush(): void {
    while (this.held.size > 0) {
      this.skipToLowest();
      this.release();
    }
    this.flushRound();
  }

  /** The main stream's summary with the channels added (bytes, passes, per-channel bytes). */
  summarise(main: StreamSummary): StreamSummary {
    this.flush();
    const channelBytes = [...this.channels.values()].sort((a, b) => a.id - b.id).map((c) => c.bytes);
    const all = channelBytes.reduce((a, b) => a + b, 0);
    const preOnChannels = all - (this.packetBytes - this.precopyPacketBytes);
    // Everything after each channel's opening packet is packets: the channels' own byte
    // counts, so that a packet whose message was missed still counts.
    let init = 0;
    for (const c of this.channels.values()) init += c.init;
    if (main.iterations === undefined || main.precopyBytes === undefined || main.stopCopyBytes === undefined) {
      // The main stream's payload was cut by the capture: byte counts only.
      return { ...main, bytes: main.bytes + all, multifdBytes: all - init, channels: channelBytes.length, channelBytes };
    }
    const precopyPasses = Math.max(this.passes, main.iterations - (main.stopCopyBytes > 0 ? 1 : 0));
    return {
      ...main,
      bytes: main.bytes + all,
      iterations: precopyPasses + (main.stopCopyBytes > 0 ? 1 : 0),
      precopyBytes: main.precopyBytes + preOnChannels,
      stopCopyBytes: main.stopCopyBytes + (all - preOnChannels),
      multifdBytes: all - init,
      channels: channelBytes.length,
      channelBytes,
    };
  }

  /** Bytes on all channels so far (for progress). */
  get bytes(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.bytes;
    return n;
  }

  private release(): boolean {
    let started = false;
    for (let h = this.held.get(this.next); h !== undefined; h = this.held.get(this.next)) {
      const num = this.next;
      this.held.delete(num);
      this.next++;
      if (this.switched) continue; // stop-and-copy pages
      if (h.sync) {
        this.round.push(h);
        if (this.round.length >= this.channels.size) started = this.flushRound() || started;
        continue;
      }
      started = this.flushRound() || started;
      started = this.position(h, num) || started;
    }
    return started;
  }

  /**
   * A sync round: QEMU 7.2 numbers the sync packets of all channels in channel order,
   * and a data packet still waiting on its channel takes that channel's sync number
   * (and the SYNC flag). Those data packets were queued round-robin from the channel
   * after the last one used, so that is their order.
   */
  private flushRound(): boolean {
    if (this.round.length === 0) return false;
    const n = Math.max(1, this.channels.size);
    const rank = (h: Held): number => (((h.channel - this.nextChannel) % n) + n) % n;
    const data = this.round.filter((h) => h.pages > 0).sort((a, b) => rank(a) - rank(b));
    this.round = [];
    let started = false;
    for (const h of data) started = this.position(h, h.num) || started;
    return started;
  }

  /** The scanner's position at a data packet: lower than the previous one = a new pass. */
  private position(h: Held, num: number): boolean {
    if (h.pages === 0) return false;
    this.nextChannel = (h.channel + 1) % Math.max(1, this.channels.size);
    let block = this.blocks.indexOf(h.block);
    if (block < 0 && this.blocks.length < 256) block = this.blocks.push(h.block) - 1;
    const wrapped = this.passes === 0 || block < this.lastBlock || (block === this.lastBlock && h.firstOffset < this.lastOffset);
    this.lastBlock = block;
    this.lastOffset = h.firstOffset;
    if (!wrapped) return false;
    this.passes++;
    this.passStartNum = num;
    return true;
  }

  /** A packet number never came (lost with a TCP hole, or its channel not captured). */
  private skipToLowest(): void {
    let low = Infinity;
    for (const k of this.held.keys()) if (k < low) low = k;
    if (low !== Infinity) this.next = low;
  }
}
