import type { CapturedPacket } from '../ingest/types.js';
import { ENTRY } from '../ingest/record-entry.js';
import type { PacketBatch } from '../ingest/batch.js';
import { fromSecPsec, PacketClock, PS_PER_S, type Picos } from '../core/time.js';
import { analyzers as registeredAnalyzers } from '../protocols/registry.js';
import type { AnomalyDef } from '../core/anomaly.js';
import type { Emit, ProtocolAnalyzer, ProtocolMessage } from '../protocols/types.js';
import { DissectAnomaly } from './anomaly-codes.js';
import { DatagramDecoders } from './datagrams.js';
import { AnomalyAggregator, type AnomalySite, NO_ENDPOINT, type PendingAnomaly } from './anomalies.js';
import { Flow, type FlowContext } from './flow.js';
import { DEFAULT_MAX_FLOWS, DEFAULT_MAX_MEMORY, MemoryBudget } from './memory-budget.js';
import { FlowTable } from './flow-table.js';
import { formatDstIp, formatSrcIp } from '../decode/ip.js';
import { EtherType, IpProto, PacketView, TcpFlag } from '../decode/packet-view.js';
import { parsePacket } from '../decode/parse.js';
import { newStats, type DissectorStats } from './stats.js';

export interface DissectorOptions {
  /** Stream analyzers to choose from (default: src/protocols/registry.ts). */
  analyzers?: readonly ProtocolAnalyzer[];
  /** Idle time (wire time) after which a flow is ended and forgotten. Default 120 s. */
  flowTimeout?: Picos;
  /** Out-of-order bytes buffered per TCP flow before skipping ahead. Default 4 MiB. */
  maxFlowBufferBytes?: number;
  /** Flows kept at once; the least recently used one is evicted past it. Default 100 000 (split between workers). */
  maxFlows?: number;
  /**
   * Bytes of per-flow state (flows, reassembly ranges, held bytes, decoder buffers) kept
   * at once (`--max-memory`; memory-budget.ts). Default 256 MiB.
   */
  maxMemory?: number;
}

/** How often (wire time) idle flows are expired and aggregated anomalies flushed. */
const HOUSEKEEPING_INTERVAL = PS_PER_S;

/**
 * Packets in, protocol messages out: L2–L4 parsing, the flow table, TCP reassembly and
 * the choice of stream decoder, plus the datagram decoders (ICMP echo, ARP/RARP).
 *
 * Per-packet cost on the hot path (a known TCP flow, in-order segment): no allocation
 * for parsing, lookup or reassembly, and no bigint: the packet's time is a PacketClock
 * (seconds + picoseconds as numbers; the bigint is made only when a message, an anomaly
 * or held bytes need it), its payload an offset pair handed to decoders that take one
 * (`StreamDecoder.dataAt`; the others get a view). Strings (IP text) are built once per
 * flow. Out-of-order segments are copied once into the flow's buffer.
 * `packet()` never throws.
 */
export class Dissector {
  readonly stats: DissectorStats = newStats();
  /** The memory budget (read by tests and the summary). */
  readonly memory: MemoryBudget;
  private readonly pv = new PacketView();
  private readonly table = new FlowTable<Flow>();
  private readonly ctx: FlowContext;
  private readonly aggregator: AnomalyAggregator;
  private readonly global: AnomalySite;
  private readonly flowTimeout: Picos;
  private readonly maxFlows: number;
  private nextFlowId = 1;
  /** The packet being handled (also the time housekeeping runs at). */
  private readonly clock = new PacketClock();
  /** Wire time (s, ps) at which housekeeping runs next; -Infinity: at the first packet. */
  private nextHkSec = Number.NEGATIVE_INFINITY;
  private nextHkPsec = 0;
  /** Latest wire time seen (s, ps); its bigint when two numbers cannot hold it exactly. */
  private lastSec = 0;
  private lastPsec = 0;
  private lastExact: Picos | undefined;
  private readonly datagrams: DatagramDecoders;

  constructor(emit: Emit, opts: DissectorOptions = {}) {
    const stats = this.stats;
    const counted: Emit = (msg: ProtocolMessage) => {
      stats.decoded[msg.protocol] = (stats.decoded[msg.protocol] ?? 0) + 1;
      emit(msg);
    };
    this.aggregator = new AnomalyAggregator(counted);
    this.datagrams = new DatagramDecoders(counted, stats, (def, ts) => this.anomaly(def, ts));
    stats.anomalies = this.aggregator.totals;
    this.ctx = {
      emit: counted,
      anomalies: this.aggregator,
      analyzers: opts.analyzers ?? registeredAnalyzers,
      stats,
      maxFlowBufferBytes: opts.maxFlowBufferBytes ?? 4 * 1024 * 1024,
      memory: this.memory = new MemoryBudget(opts.maxMemory ?? DEFAULT_MAX_MEMORY),
    };
    this.flowTimeout = opts.flowTimeout ?? 120n * PS_PER_S;
    this.maxFlows = Math.max(1, opts.maxFlows ?? DEFAULT_MAX_FLOWS);
    this.global = {
      id: -1, client: NO_ENDPOINT, server: NO_ENDPOINT,
      anomalies: null as PendingAnomaly[] | null, anomalyDirty: false,
    };
  }

  packet(pkt: CapturedPacket): void {
    this.record(pkt.data, 0, pkt.data.length, pkt.wireLength, pkt.linkType, pkt.ts);
  }

  /**
   * One packet given as b[start, end) (captured bytes, link header first) and its
   * fields, its time a bigint (the ring readers).
   */
  record(b: Uint8Array, start: number, end: number, wireLength: number, linkType: number, ts: Picos): void {
    this.clock.setTs(ts);
    this.handle(b, start, end, wireLength, linkType);
  }

  /**
   * The same with the time as integer seconds + picoseconds (< 10^12): the hot path of
   * the file readers, which hold many packets in one buffer and make no object, view or
   * bigint per packet.
   */
  recordAt(b: Uint8Array, start: number, end: number, wireLength: number, linkType: number, sec: number, psec: number): void {
    this.clock.set(sec, psec);
    this.handle(b, start, end, wireLength, linkType);
  }

  /**
   * Wire time (s, ps) from which the next packet, decoded or passed, runs housekeeping
   * (-Infinity s: the first). A file share's record walk stops there, so it calls
   * passedAt() only where housekeeping is due, not for every packet of the others.
   */
  get nextHousekeepingSec(): number { return this.nextHkSec; }
  get nextHousekeepingPsec(): number { return this.nextHkPsec; }

  /**
   * Packet `i` of a reader's batch: recordAt() without the call boundary, where a
   * picosecond count (above 2^31) passed as an argument is boxed, one heap number per
   * packet (the pure-TS path's hot loop).
   */
  recordIn(batch: PacketBatch, i: number): void {
    const off = batch.off[i]!;
    this.clock.set(batch.sec[i]!, batch.psec[i]!);
    this.handle(batch.buf[i]!, off, off + batch.len[i]!, batch.wire[i]!, batch.linkType[i]!);
  }

  /**
   * Entry `at` of a record walk's list (src/ingest/record-entry.ts), its bytes in `b`:
   * recordAt() without boxing the picoseconds, as recordIn (a file share's hot loop).
   */
  recordListed(e: Float64Array, at: number, b: Uint8Array, linkType: number): void {
    const off = e[at + ENTRY.off]!;
    this.clock.set(e[at + ENTRY.sec]!, e[at + ENTRY.psec]!);
    this.handle(b, off, off + e[at + ENTRY.len]!, e[at + ENTRY.wire]!, linkType);
  }

  /** Latest wire time seen (0 before any packet). */
  get lastTs(): Picos {
    return this.lastExact ?? fromSecPsec(this.lastSec, this.lastPsec);
  }

  private handle(b: Uint8Array, start: number, end: number, wireLength: number, linkType: number): void {
    const stats = this.stats;
    stats.packets++;
    stats.bytes += wireLength;
    this.noteTime();
    try {
      const clock = this.clock;
      if (!clock.before(this.nextHkSec, this.nextHkPsec)) this.housekeeping(clock.ts);
      this.dispatch(b, start, end, wireLength, linkType);
      if (this.memory.used > this.memory.max) this.relieve(clock.ts);
    } catch {
      // A bug of ours must not stop the capture: count the packet as lost.
      this.anomaly(DissectAnomaly.DISSECTOR_INTERNAL);
    }
  }

  /** The clock's time, if later than any seen, becomes the latest. */
  private noteTime(): void {
    const c = this.clock;
    if (c.sec > this.lastSec || (c.sec === this.lastSec && c.psec > this.lastPsec)) {
      this.lastSec = c.sec;
      this.lastPsec = c.psec;
      // A time from record() may lie beyond what two numbers hold exactly (a pcapng
      // offset can say anything): keep its bigint then.
      this.lastExact = c.wide ? c.ts : undefined;
    }
  }

  /**
   * A packet another dissector decodes (a worker's share of a split capture) went by at
   * `ts`: the housekeeping it would trigger here runs here too, so flows expire and
   * anomaly counts flush at the same packets as in one dissector over everything.
   */
  passed(ts: Picos): void {
    this.clock.setTs(ts);
    this.passedClock();
  }

  /** passed() with the time as integer seconds + picoseconds. */
  passedAt(sec: number, psec: number): void {
    this.clock.set(sec, psec);
    this.passedClock();
  }

  private passedClock(): void {
    this.noteTime();
    const clock = this.clock;
    if (!clock.before(this.nextHkSec, this.nextHkPsec)) {
      try {
        this.housekeeping(clock.ts);
      } catch {
        this.anomaly(DissectAnomaly.DISSECTOR_INTERNAL);
      }
    }
  }

  /** Wire time has reached `now` (also called internally about once per second of wire time). */
  tick(now: Picos): void {
    try {
      this.expire(now);
      this.aggregator.flushDirty();
    } catch {
      this.anomaly(DissectAnomaly.DISSECTOR_INTERNAL, now);
    }
  }

  /** End of input: end every flow (holes declared, decoders ended) and flush all counts. */
  finish(ts?: Picos): void {
    const at = ts ?? this.lastTs;
    for (const f of this.table.all()) this.drop(f, at);
    this.stats.flows.active = this.table.size;
    this.aggregator.flushDirty();
    this.aggregator.flush(this.global);
  }

  /** Flows currently tracked (for tests and diagnostics). */
  get flows(): readonly Flow[] {
    return this.table.all();
  }

  /** Runs at the clock's time `ts`. */
  private housekeeping(ts: Picos): void {
    // HOUSEKEEPING_INTERVAL is one second: the next run is at (sec + 1, psec).
    this.nextHkSec = this.clock.sec + HOUSEKEEPING_SECONDS;
    this.nextHkPsec = this.clock.psec;
    this.expire(ts);
    this.aggregator.flushDirty();
  }

  private expire(now: Picos): void {
    const limit = now - this.flowTimeout;
    let limSec = limit / PS_PER_S;
    let limPsec = limit % PS_PER_S;
    if (limPsec < 0n) { limPsec += PS_PER_S; limSec -= 1n; }
    const ls = Number(limSec), lp = Number(limPsec);
    for (let f = this.table.oldest(); f !== null && (f.lastSec < ls || (f.lastSec === ls && f.lastPsec < lp)); f = this.table.oldest()) {
      if (!f.closed) this.stats.flows.timedOut++;
      this.drop(f, now);
    }
    this.stats.flows.active = this.table.size;
  }

  /**
   * Over the memory budget: shed the least recently useful state until back under it.
   * First out-of-order bytes (oldest holder first: a hole now rather than a stall), then
   * whole connections, least recently used first. Each shed is a memory-shed anomaly.
   */
  private relieve(ts: Picos): void {
    const memory = this.memory;
    for (const holder of memory.holders) {
      if (memory.used <= memory.max) return;
      holder.owner.shedBuffers(ts);
    }
    for (let f = this.table.oldest(); f !== null && memory.used > memory.max; f = this.table.oldest()) {
      this.aggregator.report(f, DissectAnomaly.MEMORY_SHED_FLOW, 1, ts);
      f.shedBuffers(ts);
      this.drop(f, ts);
    }
    this.stats.flows.active = this.table.size;
  }

  private drop(f: Flow, ts: Picos): void {
    this.table.remove(f);
    f.finalize(ts);
  }

  /** One anomaly of the dissector itself, at the clock's time unless told. */
  private anomaly(def: AnomalyDef, ts: Picos = this.clock.ts): void {
    this.aggregator.report(this.global, def, 1, ts);
  }

  private dispatch(b: Uint8Array, start: number, end: number, wireLength: number, linkType: number): void {
    const pv = this.pv;
    const err = parsePacket(b, linkType, wireLength, pv, start, end);
    if (err !== null) {
      this.stats.malformedPackets++;
      this.anomaly(err);
      return;
    }
    if (pv.ipVersion === 0) {
      const et = pv.etherType;
      if (et === EtherType.ARP || et === EtherType.RARP) this.datagrams.arp(b, pv, end, this.clock);
      else this.stats.otherPackets++;
      return;
    }
    if (pv.fragment) {
      this.stats.fragments++;
      this.anomaly(DissectAnomaly.IP_FRAGMENT);
      return;
    }
    const proto = pv.ipProto;
    if (proto === IpProto.TCP) this.tcp(b, wireLength);
    else if (proto === IpProto.UDP) this.udp(wireLength);
    else if (proto === (pv.ipVersion === 6 ? IpProto.ICMPv6 : IpProto.ICMP)) this.datagrams.icmp(b, pv, this.clock);
    else this.stats.otherPackets++;
  }

  private tcp(b: Uint8Array, wireLength: number): void {
    const clock = this.clock;
    const pv = this.pv;
    this.stats.tcpPackets++;
    const flags = pv.tcpFlags;
    const synOnly = (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    const table = this.table;
    let f = table.find(pv);
    let c2s = table.lastWasC2s;
    if (f !== null && synOnly && f.isNewConnection(pv.seq)) {
      // The 5-tuple is reused by a new connection: end the old one first.
      this.drop(f, clock.ts);
      f = null;
    }
    if (f === null) {
      f = this.newFlow(table.lastHash, synOnly ? 'src' : (flags & TcpFlag.SYN) !== 0 ? 'dst' : 'guess');
      c2s = this.table.lastWasC2s;
    } else this.table.touch(f, clock);
    if (c2s) { f.c2sPackets++; f.c2sBytes += wireLength; } else { f.s2cPackets++; f.s2cBytes += wireLength; }
    const wireLen = pv.payloadWireLength;
    // The captured payload as an offset pair (no view): b[payloadOffset, + cap).
    let cap = 0;
    if (wireLen > 0 && pv.payloadLength > 0) cap = pv.payloadLength < wireLen ? pv.payloadLength : wireLen;
    const before = f.c2s!.retransmissions + f.s2c!.retransmissions;
    // Sequence numbers as int32 (same value mod 2^32): passed on as small integers, not boxed.
    f.tcpSegment(c2s, flags, pv.seq | 0, pv.ack | 0, b, pv.payloadOffset, cap, wireLen, clock);
    this.stats.tcp.retransmissions += f.c2s!.retransmissions + f.s2c!.retransmissions - before;
  }

  private udp(wireLength: number): void {
    const pv = this.pv;
    const clock = this.clock;
    this.stats.udpPackets++;
    let f = this.table.find(pv);
    let c2s = this.table.lastWasC2s;
    if (f === null) {
      f = this.newFlow(this.table.lastHash, 'guess');
      c2s = this.table.lastWasC2s;
    } else this.table.touch(f, clock);
    if (c2s) { f.c2sPackets++; f.c2sBytes += wireLength; } else { f.s2cPackets++; f.s2cBytes += wireLength; }
    if (pv.payloadWireLength > 0) f.udpDatagram(clock);
  }

  /**
   * A flow for the packet in `pv`. `client`: 'src' (a SYN), 'dst' (a SYN-ACK), or
   * 'guess' (mid-stream): the side on an analyzer's port is the server, else the higher
   * port is the client. Sets `table.lastWasC2s` for the packet.
   */
  private newFlow(hash: number, client: 'src' | 'dst' | 'guess'): Flow {
    const pv = this.pv;
    const ts = this.clock.ts;
    if (this.table.size >= this.maxFlows) {
      const victim = this.table.oldest()!;
      if (!victim.closed) {
        this.stats.flows.evicted++;
        this.aggregator.report(victim, DissectAnomaly.FLOW_EVICTED, 1, ts);
      }
      this.drop(victim, ts);
    }
    let srcIsClient: boolean;
    if (client === 'src') srcIsClient = true;
    else if (client === 'dst') srcIsClient = false;
    else {
      const an = this.ctx.analyzers;
      if (Flow.isKnownPort(an, pv.dstPort)) srcIsClient = true;
      else if (Flow.isKnownPort(an, pv.srcPort)) srcIsClient = false;
      else srcIsClient = pv.srcPort >= pv.dstPort;
    }
    const src = { ip: formatSrcIp(pv), port: pv.srcPort };
    const dst = { ip: formatDstIp(pv), port: pv.dstPort };
    const f = new Flow(
      this.nextFlowId++, pv.ipProto === IpProto.TCP ? 'tcp' : 'udp',
      srcIsClient ? src : dst, srcIsClient ? dst : src, client === 'guess', this.ctx, ts,
    );
    FlowTable.setKey(f, pv, hash, srcIsClient);
    this.table.insert(f, this.clock.sec, this.clock.psec);
    this.table.lastWasC2s = srcIsClient;
    this.stats.flows.created++;
    this.stats.flows.active = this.table.size;
    return f;
  }
}

const HOUSEKEEPING_SECONDS = Number(HOUSEKEEPING_INTERVAL / PS_PER_S);
