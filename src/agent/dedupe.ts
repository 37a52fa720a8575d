import type { Picos } from '../core/time.js';
import type { ProtocolMessage } from '../protocols/types.js';

interface Seen {
  /** Copies delivered so far (the highest occurrence any MP reached). */
  delivered: number;
  /** Occurrences of this content per MP. */
  perMp: Map<string, number>;
  last: Picos;
}

/**
 * Drops what two MPs both saw. Two MPs decoding the same connection raise the same
 * messages in the same order; they differ only in timestamps and local flow ids. So a
 * message's identity is its content without those, plus its occurrence count at its
 * MP: the n-th copy of a content at one MP and the n-th at another are one message,
 * the first to reach the merge wins. Bounded by a wire-time window and an entry cap.
 */
export class Deduplicator {
  private readonly seen = new Map<string, Seen>();
  readonly counts = { duplicates: 0, evicted: 0 };

  constructor(private readonly window: Picos = 10_000_000_000_000n, private readonly max = 500_000) {}

  /** True when `msg` (from `mp`, at merged time `ts`) is new and must be delivered. */
  admit(mp: string, msg: ProtocolMessage, ts: Picos): boolean {
    const key = contentKey(msg);
    let e = this.seen.get(key);
    if (e === undefined) e = { delivered: 0, perMp: new Map(), last: ts };
    else this.seen.delete(key);
    this.seen.set(key, e);
    e.last = ts;
    const n = (e.perMp.get(mp) ?? 0) + 1;
    e.perMp.set(mp, n);
    this.expire(ts);
    if (n <= e.delivered) {
      this.counts.duplicates++;
      return false;
    }
    e.delivered = n;
    return true;
  }

  private expire(now: Picos): void {
    const limit = now - this.window;
    for (const [k, e] of this.seen) {
      if (e.last >= limit && this.seen.size <= this.max) break;
      if (e.last >= limit) this.counts.evicted++;
      this.seen.delete(k);
    }
  }
}

/** Fields that differ between MPs for the same message: wire times and local flow ids. */
const LOCAL_FIELDS = new Set(['ts', 'tsEnd', 'flowId', 'requestTs', 'callTs']);

/** A message's identity across MPs: its content without wire times and local flow ids. */
export function contentKey(msg: ProtocolMessage): string {
  return JSON.stringify(msg, (k, v: unknown) => {
    if (LOCAL_FIELDS.has(k)) return undefined;
    return typeof v === 'bigint' ? `${v}n` : v;
  });
}
