import { describe, expect, it } from 'vitest';
import { fromSecPsec, PacketClock, PS_PER_S, toSecPsec } from '../../src/core/time.js';

/** Deterministic times around second boundaries, before the epoch, and beyond 2^53 s. */
function times(): bigint[] {
  const out: bigint[] = [0n, 1n, PS_PER_S - 1n, PS_PER_S, -1n, -PS_PER_S, -PS_PER_S - 1n, 1n << 90n, -(1n << 90n)];
  let x = 0x2545f491n;
  for (let i = 0; i < 2000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    const base = 1_763_000_000n + (x % 5n) - 2n; // a few neighbouring seconds, revisited out of order
    out.push(base * PS_PER_S + ((x >> 8n) % PS_PER_S));
    if (i % 97 === 0) out.push(-(x % (1000n * PS_PER_S)));
  }
  return out;
}

describe('PacketClock: a packet time as seconds + picoseconds, bigint on demand', () => {
  it('setTs gives the same (sec, psec) as toSecPsec and keeps the exact bigint, whatever the order of times', () => {
    const c = new PacketClock();
    for (const ts of times()) {
      c.setTs(ts);
      expect(c.ts).toBe(ts);
      const { sec, psec } = toSecPsec(ts);
      expect(c.psec).toBe(Number(psec));
      if (c.wide) expect(Number.isSafeInteger(Number(sec))).toBe(false);
      else expect(c.sec).toBe(Number(sec));
    }
  });

  it('set(sec, psec) builds the bigint fromSecPsec would, and compares as the bigints do', () => {
    const c = new PacketClock();
    const d = new PacketClock();
    const all = times().filter((t) => Number.isSafeInteger(Number(toSecPsec(t).sec)));
    for (let i = 1; i < all.length; i++) {
      const a = toSecPsec(all[i]!);
      const b = toSecPsec(all[i - 1]!);
      c.set(Number(a.sec), Number(a.psec));
      expect(c.ts).toBe(fromSecPsec(a.sec, a.psec));
      expect(c.before(Number(b.sec), Number(b.psec))).toBe(all[i]! < all[i - 1]!);
      d.copyFrom(c);
      expect(d.ts).toBe(all[i]!);
      expect([d.sec, d.psec]).toEqual([c.sec, c.psec]);
    }
  });
});
