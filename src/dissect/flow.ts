import type { PacketClock, Picos } from '../core/time.js';
import type { AnomalyDef } from '../core/anomaly.js';
import type { Emit, GapKind, ProtocolAnalyzer, ProtocolName, StreamDecoder, TcpSegmentMarker } from '../protocols/types.js';
import { DissectAnomaly } from './anomaly-codes.js';
import type { AnomalyAggregator, AnomalySite, PendingAnomaly } from './anomalies.js';
import { FlowEntry } from './flow-table.js';
import { FlowBudget, type MemoryBudget } from './memory-budget.js';
import { GAP_SNAPLEN, type ReassemblySink, StreamReassembler } from './reassembly.js';
import type { DissectorStats } from './stats.js';
import type { Direction, Endpoint, FlowInfo, Transport } from '../decode/types.js';

/** What a flow needs from its Dissector. One object shared by all flows. */
export interface FlowContext {
  /** Counts per protocol, then hands on. */
  emit: Emit;
  anomalies: AnomalyAggregator;
  analyzers: readonly ProtocolAnalyzer[];
  stats: DissectorStats;
  maxFlowBufferBytes: number;
  memory: MemoryBudget;
}

export const ProtoState = { Undecided: 0, Decoding: 1, Skip: 2, Failed: 3 } as const;
export type ProtoState = (typeof ProtoState)[keyof typeof ProtoState];

/** Server→client bytes held while we wait for the client's first bytes to probe. */
const MAX_PENDING_BYTES = 64 * 1024;

/**
 * Heap bytes per flow measured on Node 20 (test/hostile/memory.test.ts): the flow with its
 * two reassemblers, endpoints and table links; a decoder's fixed state; one held chunk.
 */
export const FLOW_COST = 1100;
export const DECODER_COST = 1100;
const CHUNK_COST = 64;

const M_SYN = 1, M_SYNACK = 2, M_FIN_C2S = 4, M_FIN_S2C = 8, M_RST_C2S = 16, M_RST_S2C = 32;

interface PendingChunk { dir: Direction; data: Uint8Array | null; len: number; ts: Picos; kind: GapKind }

/** One direction's sink: forwards reassembled bytes to the flow. */
class DirectionSink implements ReassemblySink {
  constructor(private readonly flow: Flow, private readonly dir: Direction) {}
  deliver(bytes: Uint8Array, ts: Picos): void { this.flow.onData(this.dir, bytes, ts); }
  deliverAt(buf: Uint8Array, start: number, end: number, at: PacketClock): void { this.flow.onDataAt(this.dir, buf, start, end, at); }
  gap(length: number, ts: Picos, reason: AnomalyDef): void { this.flow.onGap(this.dir, length, ts, reason === GAP_SNAPLEN ? 'cut' : 'lost'); }
  anomaly(def: AnomalyDef, count: number, ts: Picos): void {
    this.flow.ctx.anomalies.report(this.flow, def, count, ts);
  }
  end(ts: Picos): void { this.flow.onEnd(this.dir, ts); }
}

/**
 * A TCP or UDP connection: FlowInfo for the decoders, a hash-table entry, an anomaly
 * site, and (TCP) two reassemblers feeding one protocol decoder.
 */
export class Flow extends FlowEntry implements FlowInfo, AnomalySite {
  anomalies: PendingAnomaly[] | null = null;
  anomalyDirty = false;
  c2s: StreamReassembler | null = null;
  s2c: StreamReassembler | null = null;
  state: ProtoState = ProtoState.Undecided;
  protocol: ProtocolName | null = null;
  /** ISN of the client's SYN, -1 when no SYN was seen. */
  synIsn = -1;
  /** Both directions ended (FIN delivered or RST): later packets are stragglers. */
  closed = false;
  /** Decoders ended and buffers released. */
  finalized = false;
  firstTs: Picos;
  /** Packets and wire bytes per direction (for cross-checks with other tools). */
  c2sPackets = 0; c2sBytes = 0; s2cPackets = 0; s2cBytes = 0;
  private decoder: StreamDecoder | null = null;
  /** The analyzer chosen for this flow; its decoder is made at the first call (a SYN flood makes none). */
  private analyzer: ProtocolAnalyzer | null = null;
  private pending: PendingChunk[] | null = null;
  private pendingBytes = 0;
  private markers = 0;
  private hadData = false;
  private readonly budget: FlowBudget;
  /** Bytes charged to the memory budget besides the reassembly ranges (flow, decoder, held chunks). */
  private cost = FLOW_COST;
  private decoderHeld = 0;

  constructor(
    id: number, transport: Transport, client: Endpoint, server: Endpoint,
    readonly midstream: boolean, readonly ctx: FlowContext, ts: Picos,
  ) {
    super(id, transport, client, server);
    this.firstTs = ts;
    ctx.memory.used += FLOW_COST;
    this.budget = new FlowBudget(ctx.maxFlowBufferBytes, ctx.memory, this);
    if (transport === 'tcp') {
      this.c2s = new StreamReassembler(new DirectionSink(this, 'c2s'), this.budget);
      this.s2c = new StreamReassembler(new DirectionSink(this, 's2c'), this.budget);
    }
    for (const a of ctx.analyzers) {
      if (a.ports.includes(server.port)) { this.start(a); break; }
    }
  }

  /** Is the port one an analyzer listens on? Used to guess the server of a mid-stream flow. */
  static isKnownPort(analyzers: readonly ProtocolAnalyzer[], port: number): boolean {
    for (const a of analyzers) if (a.ports.includes(port)) return true;
    return false;
  }

  /**
   * One TCP segment. Its captured payload is buf[off, off + cap), `wireLen` its length on
   * the wire; seq/ack/flags come from the parsed header (seq and ack as uint32 or int32:
   * only their value mod 2^32 counts); `at` is the packet's time.
   */
  tcpSegment(c2s: boolean, flags: number, seq: number, ack: number, buf: Uint8Array, off: number, cap: number,
    wireLen: number, at: PacketClock): void {
    if ((flags & 0x07) === 0) {
      // No SYN, FIN or RST (nearly every segment): no marker, no bigint.
      const live = this.state === ProtoState.Decoding || this.state === ProtoState.Undecided;
      if (!live) return;
      if ((flags & 0x10) !== 0) (c2s ? this.s2c! : this.c2s!).acked(ack, at);
      if (wireLen > 0) (c2s ? this.c2s! : this.s2c!).segmentAt(seq, buf, off, cap, wireLen, at);
      // An ACK or the bytes may have completed a direction whose FIN came earlier.
      if (this.c2s!.ended && this.s2c!.ended && !this.closed) {
        this.closed = true;
        this.ctx.anomalies.flush(this);
      }
      return;
    }
    const ts = at.ts;
    const dir: Direction = c2s ? 'c2s' : 's2c';
    const r = c2s ? this.c2s! : this.s2c!;
    const peer = c2s ? this.s2c! : this.c2s!;
    const syn = (flags & 0x02) !== 0;
    if (syn) {
      if ((flags & 0x10) === 0) {
        if ((this.markers & M_SYN) === 0) { this.markers |= M_SYN; this.marker('syn', dir, ts); }
        if (c2s && this.synIsn < 0) this.synIsn = seq >>> 0;
      } else if ((this.markers & M_SYNACK) === 0) {
        this.markers |= M_SYNACK;
        this.marker('syn-ack', dir, ts);
      }
      r.initFromSyn(seq);
    }
    const live = this.state === ProtoState.Decoding || this.state === ProtoState.Undecided;
    if (live && (flags & 0x10) !== 0) peer.acked(ack, at);
    const dataSeq = syn ? (seq + 1) >>> 0 : seq;
    if (live && wireLen > 0) r.segmentAt(dataSeq, buf, off, cap, wireLen, at);
    if ((flags & 0x01) !== 0) {
      const bit = c2s ? M_FIN_C2S : M_FIN_S2C;
      if ((this.markers & bit) === 0) {
        this.markers |= bit;
        const peerBit = c2s ? M_FIN_S2C : M_FIN_C2S;
        // peer.acked() above turned an ACK of unseen bytes (or of an unseen FIN) into lost bytes.
        const why = (this.markers & peerBit) === 0 && peer.lostBytes > 0
          ? `${peer.lostBytes} bytes of the other direction were never captured: its FIN may have come first and been lost`
          : undefined;
        this.marker('fin', dir, ts, why);
      }
      r.fin((dataSeq + wireLen) >>> 0, ts);
    }
    if ((flags & 0x04) !== 0) {
      const bit = c2s ? M_RST_C2S : M_RST_S2C;
      if ((this.markers & bit) === 0) { this.markers |= bit; this.marker('rst', dir, ts); }
      this.c2s!.close(ts);
      this.s2c!.close(ts);
    }
    if (this.c2s!.ended && this.s2c!.ended && !this.closed) {
      this.closed = true;
      this.ctx.anomalies.flush(this);
    }
  }

  /** Would a SYN with this ISN start a new connection on this 5-tuple? */
  isNewConnection(isn: number): boolean {
    if (this.closed) return this.synIsn !== isn;
    if (this.synIsn >= 0) return this.synIsn !== isn;
    return this.c2s !== null && (this.c2s.initialized || this.s2c!.initialized);
  }

  /** A UDP datagram: no decoder exists for UDP yet, so its payload is counted and skipped. */
  udpDatagram(at: PacketClock): void {
    if (this.state === ProtoState.Undecided) this.giveUp(at.ts);
  }

  /** End of the flow (timeout, eviction, end of capture): deliver, declare holes, end decoders. */
  finalize(ts: Picos): void {
    if (this.finalized) return;
    this.finalized = true;
    if (this.c2s !== null) { this.c2s.close(ts); this.s2c!.close(ts); }
    if (this.state === ProtoState.Undecided && this.hadData) this.giveUp(ts);
    this.pending = null;
    this.decoder = null;
    this.ctx.memory.used -= this.cost;
    this.cost = 0;
    this.ctx.anomalies.flush(this);
  }

  /** The memory budget needs room: drop the out-of-order bytes both directions hold (holes from here). */
  shedBuffers(ts: Picos): void {
    let dropped = 0;
    if (this.c2s !== null) dropped += this.c2s.shed(ts) + this.s2c!.shed(ts);
    if (dropped > 0) this.ctx.anomalies.report(this, DissectAnomaly.MEMORY_SHED_BUFFERS, 1, ts);
    if (this.c2s !== null && this.c2s.ended && this.s2c!.ended && !this.closed) {
      this.closed = true;
      this.ctx.anomalies.flush(this);
    }
  }

  onData(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    this.hadData = true;
    if (this.state === ProtoState.Undecided) {
      if (dir === 'c2s') this.probe(bytes, ts);
      else this.hold(dir, bytes.slice(), bytes.length, ts);
      // probe() may have started a decoder (and replayed the held bytes).
      if ((this.state as ProtoState) !== ProtoState.Decoding || dir === 's2c') return;
    }
    if (this.state !== ProtoState.Decoding) return;
    this.ctx.stats.tcp.deliveredBytes += bytes.length;
    try {
      this.dec().data(dir, bytes, ts);
    } catch {
      this.fail(ts);
    }
    this.syncDecoderCost();
  }

  /**
   * In-order bytes buf[start, end) at the clock's time: a decoder that takes an offset
   * pair (`dataAt`) gets them without a view or a bigint; anything else goes by onData.
   */
  onDataAt(dir: Direction, buf: Uint8Array, start: number, end: number, at: PacketClock): void {
    if (this.state !== ProtoState.Decoding) { this.onData(dir, buf.subarray(start, end), at.ts); return; }
    this.hadData = true;
    this.ctx.stats.tcp.deliveredBytes += end - start;
    try {
      const d = this.dec();
      if (d.dataAt !== undefined) d.dataAt(dir, buf, start, end, at);
      else d.data(dir, buf.subarray(start, end), at.ts);
    } catch {
      this.fail(at.ts);
    }
    this.syncDecoderCost();
  }

  /** The flow's decoder, made on first use. */
  private dec(): StreamDecoder {
    if (this.decoder === null) {
      this.decoder = this.analyzer!.create(this, this.ctx.emit);
      this.charge(DECODER_COST);
    }
    return this.decoder;
  }

  /** Charges the change in what the decoder holds (its buffers grow and shrink with the data). */
  private syncDecoderCost(): void {
    const d = this.decoder;
    if (d === null || d.heldBytes === undefined) return;
    const held = d.heldBytes();
    if (held === this.decoderHeld) return;
    this.charge(held - this.decoderHeld);
    this.decoderHeld = held;
  }

  private charge(delta: number): void {
    if (this.finalized) return;
    this.cost += delta;
    this.ctx.memory.used += delta;
  }

  onGap(dir: Direction, length: number, ts: Picos, kind: GapKind): void {
    this.ctx.stats.tcp.holeBytes += length;
    if (kind === 'cut') this.ctx.stats.tcp.cutBytes += length;
    if (this.state === ProtoState.Undecided) { this.hold(dir, null, length, ts, kind); return; }
    if (this.state !== ProtoState.Decoding) return;
    try {
      this.dec().gap(dir, length, ts, kind);
    } catch {
      this.fail(ts);
    }
    this.syncDecoderCost();
  }

  onEnd(dir: Direction, ts: Picos): void {
    if (this.state !== ProtoState.Decoding) return;
    try {
      this.dec().end(dir, ts);
    } catch {
      this.fail(ts);
    }
  }

  private start(a: ProtocolAnalyzer): void {
    this.analyzer = a;
    this.protocol = a.name;
    this.state = ProtoState.Decoding;
    const byProto = this.ctx.stats.flows.byProtocol;
    byProto[a.name] = (byProto[a.name] ?? 0) + 1;
  }

  /** First client bytes of a flow no port matched: ask each analyzer. */
  private probe(first: Uint8Array, ts: Picos): void {
    for (const a of this.ctx.analyzers) {
      let yes = false;
      try { yes = a.probe(first, this); } catch { yes = false; }
      if (!yes) continue;
      try { this.start(a); } catch { this.fail(ts); return; }
      const held = this.pending;
      this.releasePending();
      if (held !== null) {
        for (const c of held) {
          if (this.state !== ProtoState.Decoding) return;
          if (c.data !== null) this.onData(c.dir, c.data, c.ts); else this.onGap(c.dir, c.len, c.ts, c.kind);
        }
      }
      return;
    }
    this.giveUp(ts);
  }

  private hold(dir: Direction, data: Uint8Array | null, len: number, ts: Picos, kind: GapKind = 'lost'): void {
    if (data !== null && this.pendingBytes + len > MAX_PENDING_BYTES) { this.giveUp(ts); return; }
    if (data !== null) this.pendingBytes += len;
    this.charge(len + CHUNK_COST);
    (this.pending ??= []).push({ dir, data, len, ts, kind });
  }

  private giveUp(ts: Picos): void {
    this.state = ProtoState.Skip;
    this.releasePending();
    this.ctx.anomalies.report(this, DissectAnomaly.FLOW_UNKNOWN_PROTOCOL, 1, ts);
  }

  private releasePending(): void {
    if (this.pending === null) return;
    let n = 0;
    for (const c of this.pending) n += (c.data !== null ? c.len : 0) + CHUNK_COST;
    this.charge(-n);
    this.pending = null;
  }

  private fail(ts: Picos): void {
    this.state = ProtoState.Failed;
    if (this.decoder !== null) this.charge(-this.decoderHeld - DECODER_COST);
    this.decoder = null;
    this.analyzer = null;
    this.decoderHeld = 0;
    this.ctx.anomalies.report(this, DissectAnomaly.FLOW_DECODER_THREW, 1, ts);
  }

  private marker(kind: TcpSegmentMarker['kind'], dir: Direction, ts: Picos, peerFinMayBeLost?: string): void {
    const c2s = dir === 'c2s';
    this.ctx.emit({
      protocol: 'tcp', kind, dir, ts, tsEnd: ts, flowId: this.id,
      src: c2s ? this.client : this.server, dst: c2s ? this.server : this.client,
      ...(peerFinMayBeLost !== undefined ? { peerFinMayBeLost } : {}),
    });
  }
}
