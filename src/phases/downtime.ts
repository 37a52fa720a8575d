import type { AnomalyDef } from '../core/anomaly.js';
import { PS_PER_US, type Picos } from '../core/time.js';
import { PhaseAnomaly } from './anomaly-codes.js';
import type { ArpAnnouncement } from '../decode/arp.js';
import type { Endpoint, IcmpEcho } from '../protocols/types.js';
import type { Downtime } from './events.js';
import type { Migration } from './migration.js';

/**
 * Requests a stream remembers unanswered: 32 s of a 1 ms ping, and below the 16-bit
 * sequence space so a well-behaved stream never has two of one number outstanding.
 */
export const MAX_UNANSWERED = 32_768;
/**
 * Ping streams kept at once. A sender chooses the ICMP identifier freely, so a new one
 * per packet must not grow the tracker: past this the least recently active stream is
 * forgotten and counted (PHASES_PING_STREAM_SHED).
 */
export const MAX_PING_STREAMS = 4_096;
const INTERVAL_SAMPLES = 33;
/** A ping stream counts as "active" at a switch-over if it sent a request this recently. */
const ACTIVE_WINDOW: Picos = 1_000_000_000_000n;

/**
 * The requests of a stream not answered yet, in send order: a ring of sequence numbers
 * with an index by number, so a reply costs O(1) amortised however many requests an
 * attacker leaves open (a linear search per reply was quadratic in them).
 */
export class UnansweredRequests {
  private readonly seqs: number[] = [];
  /**
   * Position (absolute send index) of each outstanding number's oldest request — but
   * the newest such entry is kept in the slot below, not in the map: a ping answered
   * before the next request goes out (nearly every one) then costs no map operation (a
   * Map set and delete per echo made V8 rebuild its table every few echoes, 16 MB of
   * garbage in a capture run). The slot and the map never hold the same number.
   */
  private readonly at = new Map<number, number>();
  private slotUsed = false;
  private slotSeq = 0;
  private slotIndex = 0;
  /** Absolute send index of the oldest outstanding request (seqs[offset]). */
  private head = 0;
  private offset = 0;

  push(seq: number): void {
    const index = this.head + this.size;
    this.seqs.push(seq);
    if (this.indexOf(seq) === undefined) {
      if (this.slotUsed) this.at.set(this.slotSeq, this.slotIndex);
      this.slotUsed = true;
      this.slotSeq = seq;
      this.slotIndex = index;
    }
    if (this.size > MAX_UNANSWERED) this.dropOldest(1);
  }

  /** Answers `seq`: removes it and every older request; returns how many older ones. */
  answer(seq: number): number {
    const index = this.indexOf(seq);
    if (index === undefined) return 0;
    const older = index - this.head;
    this.dropOldest(older + 1);
    return older;
  }

  get size(): number {
    return this.seqs.length - this.offset;
  }

  private indexOf(seq: number): number | undefined {
    return this.slotUsed && this.slotSeq === seq ? this.slotIndex : this.at.get(seq);
  }

  private dropOldest(n: number): void {
    for (let i = 0; i < n; i++) {
      const seq = this.seqs[this.offset]!;
      if (this.slotUsed && this.slotSeq === seq) {
        if (this.slotIndex === this.head) this.slotUsed = false;
      } else if (this.at.get(seq) === this.head) this.at.delete(seq);
      this.offset++;
      this.head++;
    }
    // Compact once the dropped prefix dominates, so the array stays O(outstanding).
    if (this.offset > 1024 && this.offset * 2 > this.seqs.length) {
      this.seqs.splice(0, this.offset);
      this.offset = 0;
    }
  }
}

/** One echo "conversation": ping client → target, one ICMP identifier. */
class PingStream {
  lastReplyTs?: Picos;
  lastRequestTs?: Picos;
  readonly unanswered = new UnansweredRequests();
  /**
   * The times of the last INTERVAL_SAMPLES + 1 requests, a ring (`requests` of them so
   * far): the spacing is worked out only when a downtime needs the interval, not per
   * request (a subtraction and an array shift per echo).
   */
  private readonly recent: Picos[] = [];
  private requests = 0;

  request(msg: IcmpEcho): void {
    this.recent[this.requests % (INTERVAL_SAMPLES + 1)] = msg.ts;
    this.requests++;
    this.lastRequestTs = msg.ts;
    this.unanswered.push(msg.seq);
  }

  /** Answers `seq`: returns how many older requests are now known never to be answered. */
  reply(seq: number): number {
    return this.unanswered.answer(seq);
  }

  /** The ping interval: median request spacing, to the microsecond (1 ms in the study). */
  interval(): Picos {
    const n = Math.min(this.requests, INTERVAL_SAMPLES + 1);
    if (n < 2) return 1_000_000_000n;
    const ring = INTERVAL_SAMPLES + 1;
    const deltas: Picos[] = [];
    for (let k = this.requests - n + 1; k < this.requests; k++) deltas.push(this.recent[k % ring]! - this.recent[(k - 1) % ring]!);
    deltas.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const median = deltas[deltas.length >> 1]!;
    return ((median + PS_PER_US / 2n) / PS_PER_US) * PS_PER_US;
  }
}

/** The stream last found for (client, target, id), by endpoint object. */
interface StreamMemo { client: Endpoint | undefined; target: Endpoint | undefined; id: number; stream: PingStream | undefined }

interface Waiter {
  migration: Migration;
  switchover: Picos;
  /** Candidate gaps seen on streams that answered normally across the switch-over. */
  candidates: { gap: Picos; lost: number; interval: Picos; at: Picos }[];
  activeStreams: number;
  /** The destination's first RARP / gratuitous ARP after the switch-over: the VM runs there. */
  announce?: { ts: Picos; kind: ArpAnnouncement['kind'] };
}

/**
 * Downtime from the ICMP echo replies around each switch-over: the gap between the
 * last reply before it and the first reply after it. With several ping streams (one
 * per VM) the stream whose replies stop at the switch-over is the migrating VM's.
 */
export class DowntimeTracker {
  /** Insertion order is recency order: a stream is moved to the end when it sends. */
  private readonly streams = new Map<string, PingStream>();
  /** Counts a ping stream forgotten to stay within MAX_PING_STREAMS (the engine's anomaly). */
  shed: (def: AnomalyDef, ts: Picos) => void = () => {};
  private readonly requestMemo: StreamMemo = { client: undefined, target: undefined, id: -1, stream: undefined };
  private readonly replyMemo: StreamMemo = { client: undefined, target: undefined, id: -1, stream: undefined };
  private readonly waiters: Waiter[] = [];

  onEcho(msg: IcmpEcho): void {
    if (msg.kind === 'echo-request') {
      this.streamOf(msg.src, msg.dst, msg.id, msg.ts)!.request(msg);
      return;
    }
    const s = this.streamOf(msg.dst, msg.src, msg.id);
    if (!s) return;
    const before = s.lastReplyTs;
    const lost = s.reply(msg.seq);
    if (before !== undefined) this.resolve(s, before, msg.ts, lost);
    s.lastReplyTs = msg.ts;
  }

  /**
   * The ping stream client → target with this identifier (made for a request, else
   * undefined when unknown). A pinger's messages share their endpoint objects (the
   * Dissector keeps one per host), so the last stream found per direction is kept by
   * object and most echoes build no key string (one per packet was 5 % of a file run).
   */
  private streamOf(client: Endpoint, target: Endpoint, id: number, requestTs?: Picos): PingStream | undefined {
    const make = requestTs !== undefined;
    const memo = make ? this.requestMemo : this.replyMemo;
    if (memo.client === client && memo.target === target && memo.id === id && memo.stream !== undefined) return memo.stream;
    const key = `${client.ip}>${target.ip}#${id}`;
    let s = this.streams.get(key);
    if (make) {
      if (s) {
        this.streams.delete(key); // re-insert: most recently active last
      } else {
        s = new PingStream();
        if (this.streams.size >= MAX_PING_STREAMS) this.forgetLeastRecent(requestTs);
      }
      this.streams.set(key, s);
    }
    if (s) { memo.client = client; memo.target = target; memo.id = id; memo.stream = s; }
    return s;
  }

  private forgetLeastRecent(ts: Picos): void {
    const oldest = this.streams.keys().next();
    if (oldest.done) return;
    const gone = this.streams.get(oldest.value)!;
    this.streams.delete(oldest.value);
    for (const memo of [this.requestMemo, this.replyMemo]) if (memo.stream === gone) memo.stream = undefined;
    this.shed(PhaseAnomaly.PING_STREAM_SHED, ts);
  }

  /** Ping streams held now (bounded by MAX_PING_STREAMS). */
  get streamCount(): number {
    return this.streams.size;
  }


  /**
   * A resumed VM announcing its MAC. RARP carries no IP address, so it goes to the
   * earliest switch-over still waiting for one (one outage, one migration).
   */
  onAnnounce(msg: ArpAnnouncement): void {
    const w = this.waiters.find((x) => x.announce === undefined && msg.ts > x.switchover);
    if (w) w.announce = { ts: msg.ts, kind: msg.kind };
  }

  /** The VM of `migration` paused at `ts`: wait for its ping stream to answer again. */
  onSwitchover(migration: Migration, ts: Picos): void {
    let active = 0;
    for (const s of this.streams.values()) {
      if (s.lastRequestTs !== undefined && ts - s.lastRequestTs <= ACTIVE_WINDOW) active++;
    }
    if (active === 0) return;
    this.waiters.push({ migration, switchover: ts, candidates: [], activeStreams: active });
  }

  /** Migration closing with its downtime undecided: take the largest gap seen. */
  settle(migration: Migration): void {
    const i = this.waiters.findIndex((w) => w.migration === migration);
    if (i < 0) return;
    const w = this.waiters[i]!;
    this.waiters.splice(i, 1);
    const best = w.candidates.reduce<Waiter['candidates'][number] | undefined>(
      (b, c) => (b === undefined || c.gap > b.gap ? c : b), undefined);
    if (best) this.report(w, best);
  }

  private resolve(s: PingStream, lastBefore: Picos, firstAfter: Picos, lost: number): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      if (!(lastBefore <= w.switchover && firstAfter > w.switchover)) continue;
      const gap = firstAfter - lastBefore;
      const interval = s.interval();
      if (gap > 2n * interval || w.activeStreams === 1) {
        this.waiters.splice(i, 1);
        this.report(w, { gap, lost, interval, at: firstAfter });
        return; // one outage belongs to one migration
      }
      w.candidates.push({ gap, lost, interval, at: firstAfter });
      if (w.candidates.length >= w.activeStreams) {
        this.waiters.splice(i, 1);
        this.settleWaiter(w);
        return;
      }
    }
  }

  private settleWaiter(w: Waiter): void {
    const best = w.candidates.reduce((b, c) => (c.gap > b.gap ? c : b));
    this.report(w, best);
  }

  /**
   * The downtime's parts, each bounded by the packets that mark it: the pause the
   * stream shows (switch-over → EOF), the resume (EOF → the destination's announcement)
   * and the network re-convergence (announcement → the first echo reply; the path may
   * have been usable up to one ping interval before that reply's request).
   */
  private split(ev: Downtime, w: Waiter, c: Waiter['candidates'][number]): void {
    const pause = w.migration.stream?.pause;
    if (pause) ev.pause = pause;
    const a = w.announce;
    if (!a || a.ts > c.at) return;
    ev.announce = a.kind;
    if (pause && pause.end <= a.ts) {
      const d = a.ts - pause.end;
      ev.resume = { start: pause.end, end: a.ts, min: d, max: d };
    }
    const d = c.at - a.ts;
    ev.reconvergence = { start: a.ts, end: c.at, min: d > c.interval ? d - c.interval : 0n, max: d };
  }

  /** The event's ts is the first reply after the outage: the marker that proves it ended. */
  private report(w: Waiter, c: Waiter['candidates'][number]): void {
    const m = w.migration;
    m.downtime = c.gap;
    m.lostPings = c.lost;
    const ev: Downtime = {
      type: 'downtime', migration: '', ts: c.at,
      duration: c.gap, lost: c.lost, lostDuration: BigInt(c.lost) * c.interval,
    };
    this.split(ev, w, c);
    m.emit(ev);
  }
}
