import type { Picos } from '../core/time.js';

/** One generated packet: its wire time (on the output grid) and its Ethernet frame. */
export interface GeneratedPacket {
  ts: Picos;
  frame: Uint8Array;
  /**
   * Phase-marker names this packet carries (e.g. "m1:prepare-call"): the truth takes
   * their timestamps from the packet as written, and --lose drops the packet by name.
   */
  markers?: string[];
}

/**
 * A lazily generated, time-ordered packet flow (one TCP connection, the ping client,
 * the RARP announcements). Flows are merged by next timestamp, so only one packet per
 * flow is ever held: a multi-GB trace streams in constant memory.
 */
export interface PacketSource {
  /** The next packet, or undefined when the flow is over. Timestamps never decrease. */
  next(): GeneratedPacket | undefined;
}

/** Rounds up to the output format's timestamp grid. */
export function quantizeUp(ts: Picos, resolution: Picos): Picos {
  const r = ts % resolution;
  return r === 0n ? ts : ts + (resolution - r);
}

/** A PacketSource from a generator function. */
export function sourceOf(gen: Iterator<GeneratedPacket>): PacketSource {
  return {
    next(): GeneratedPacket | undefined {
      const r = gen.next();
      return r.done ? undefined : r.value;
    },
  };
}

/**
 * k-way merge of packet sources by timestamp (binary min-heap over each source's head
 * packet). Ties keep source order, so the output is deterministic.
 */
export function* mergeSources(sources: PacketSource[]): Generator<GeneratedPacket> {
  interface Head {
    pkt: GeneratedPacket;
    src: PacketSource;
    order: number;
  }
  const heap: Head[] = [];
  const less = (x: Head, y: Head): boolean => x.pkt.ts < y.pkt.ts || (x.pkt.ts === y.pkt.ts && x.order < y.order);
  const push = (h: Head): void => {
    heap.push(h);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const siftDown = (): void => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  sources.forEach((src, order) => {
    const pkt = src.next();
    if (pkt) push({ pkt, src, order });
  });
  while (heap.length > 0) {
    const top = heap[0]!;
    const out = top.pkt;
    const nxt = top.src.next();
    if (nxt) {
      if (nxt.ts < out.ts) throw new Error(`packet source went back in time (${nxt.ts} < ${out.ts})`);
      top.pkt = nxt;
      siftDown();
    } else {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown();
      }
    }
    yield out;
  }
}
