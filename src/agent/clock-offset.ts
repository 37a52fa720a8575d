import type { Picos } from '../core/time.js';
import type { SegmentSighting } from './fingerprint.js';

/**
 * An MP's clock relative to the reference MP: reference time = MP time − offset.
 * docs/clock-offsets.md derives the numbers.
 */
export interface ClockOffset {
  mp: string;
  reference: string;
  /** MP clock minus reference clock, ps. */
  offset: Picos;
  /** Half the larger inter-quartile range of the two directions' samples: sample scatter (jitter). */
  spread: Picos;
  /** One-way link delay between the two MPs (half the round trip), ps. */
  delay: Picos;
  /** |true offset − offset| ≤ bound whatever the delay asymmetry: delay + spread. */
  bound: Picos;
  /** Samples in the window behind this estimate (both directions). */
  samples: number;
}

export interface ClockOffsetOptions {
  /** Samples kept per MP and direction (sliding window). Default 512. */
  window?: number;
  /** Samples needed in each direction before an estimate is given. Default 8. */
  minSamples?: number;
  /** Sightings waiting for a partner from another MP (memory bound). Default 200 000. */
  maxPending?: number;
  /** A sighting older than this (wire time) no longer waits for a partner. Default 2 s. */
  matchWindow?: Picos;
}

interface Pending {
  mp: string;
  ts: Picos;
  /** Seen twice at the same MP (a retransmission): useless for pairing. */
  ambiguous: boolean;
}

/** Differences (MP − reference timestamp) of one direction of travel, newest last. */
class SampleWindow {
  readonly d: Picos[] = [];
  constructor(private readonly size: number) {}
  add(v: Picos): void {
    this.d.push(v);
    if (this.d.length > this.size) this.d.shift();
  }
}

/**
 * Estimates each MP's clock offset to a reference MP from TCP segments both saw.
 *
 * A segment from the reference's side to the MP's side gives d = offset + delay + jitter;
 * one the other way gives d = offset − delay − jitter (d = MP ts − reference ts). With
 * one-way delays that are equal both ways (the NTP assumption) the offset is the
 * midpoint of the two directions. Robust: a low quantile of the "+delay" direction and a
 * high quantile of the "−delay" one (the least-queued samples, as NTP's minimum filter,
 * but a quantile so that one mis-paired sample cannot move it), over a sliding window.
 */
export class ClockOffsetEstimator {
  private readonly pending = new Map<string, Pending>();
  /** mp → "srcIp>dstIp" → window of differences to the reference. */
  private readonly samples = new Map<string, Map<string, SampleWindow>>();
  private readonly window: number;
  private readonly minSamples: number;
  private readonly maxPending: number;
  private readonly matchWindow: Picos;
  private latest: Picos = 0n;
  /** Counters: sightings paired, given up unpaired, ambiguous (retransmitted) ones. */
  readonly counts = { sightings: 0, paired: 0, expired: 0, ambiguous: 0, evicted: 0 };

  constructor(readonly reference: string, opts: ClockOffsetOptions = {}) {
    this.window = opts.window ?? 512;
    this.minSamples = opts.minSamples ?? 8;
    this.maxPending = opts.maxPending ?? 200_000;
    this.matchWindow = opts.matchWindow ?? 2_000_000_000_000n;
  }

  /** One sighting at `mp`; returns the MP whose sample window grew, if any. */
  sight(mp: string, s: SegmentSighting): string | undefined {
    this.counts.sightings++;
    if (s.ts > this.latest) this.latest = s.ts;
    this.expire();
    const p = this.pending.get(s.key);
    if (p === undefined) {
      if (this.pending.size >= this.maxPending) {
        const oldest = this.pending.keys().next().value!;
        this.pending.delete(oldest);
        this.counts.evicted++;
      }
      this.pending.set(s.key, { mp, ts: s.ts, ambiguous: false });
      return undefined;
    }
    if (p.mp === mp) {
      if (!p.ambiguous) this.counts.ambiguous++;
      p.ambiguous = true;
      return undefined;
    }
    if (p.ambiguous) return undefined;
    // Pair with the reference only: offsets of two non-reference MPs are not chained.
    let other: string;
    let d: Picos;
    if (p.mp === this.reference) { other = mp; d = s.ts - p.ts; }
    else if (mp === this.reference) { other = p.mp; d = p.ts - s.ts; }
    else return undefined;
    this.pending.delete(s.key);
    this.counts.paired++;
    let byDir = this.samples.get(other);
    if (byDir === undefined) this.samples.set(other, (byDir = new Map()));
    const dir = `${s.src}>${s.dst}`;
    let w = byDir.get(dir);
    if (w === undefined) byDir.set(dir, (w = new SampleWindow(this.window)));
    w.add(d);
    return other;
  }

  /** The current estimate for `mp` (undefined until both directions have samples). */
  estimate(mp: string): ClockOffset | undefined {
    const byDir = this.samples.get(mp);
    if (byDir === undefined) return undefined;
    // The host pair with the most samples in its weaker direction carries the estimate.
    let best: { a: SampleWindow; b: SampleWindow; n: number } | undefined;
    for (const [dir, a] of byDir) {
      const [src, dst] = dir.split('>') as [string, string];
      if (src > dst) continue;
      const b = byDir.get(`${dst}>${src}`);
      if (b === undefined) continue;
      const n = Math.min(a.d.length, b.d.length);
      if (n >= this.minSamples && (best === undefined || n > best.n)) best = { a, b, n };
    }
    if (best === undefined) return undefined;
    const a = sorted(best.a.d);
    const b = sorted(best.b.d);
    // "+delay" direction: the one with the larger median.
    const [plus, minus] = quantile(a, 0.5) >= quantile(b, 0.5) ? [a, b] : [b, a];
    const hi = quantile(plus, 0.1);
    const lo = quantile(minus, 0.9);
    const offset = (hi + lo) / 2n;
    const rawDelay = (hi - lo) / 2n;
    const delay = rawDelay > 0n ? rawDelay : 0n;
    const iqrPlus = quantile(plus, 0.75) - quantile(plus, 0.25);
    const iqrMinus = quantile(minus, 0.75) - quantile(minus, 0.25);
    const spread = (iqrPlus > iqrMinus ? iqrPlus : iqrMinus) / 2n;
    return { mp, reference: this.reference, offset, spread, delay, bound: delay + spread, samples: a.length + b.length };
  }

  /** The latest sighting's timestamp (any MP's clock). */
  get latestTs(): Picos {
    return this.latest;
  }

  private expire(): void {
    const limit = this.latest - this.matchWindow;
    for (const [k, p] of this.pending) {
      if (p.ts >= limit) break;
      this.pending.delete(k);
      if (!p.ambiguous) this.counts.expired++;
    }
  }
}

function sorted(v: readonly Picos[]): Picos[] {
  return [...v].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/** Nearest-rank quantile of sorted values (non-empty). */
function quantile(s: readonly Picos[], q: number): Picos {
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}
