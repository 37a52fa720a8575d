import { describe, expect, it } from 'vitest';
import { formatIso, formatSeconds, fromSecPsec, fromSecUsec, secondsToPicos, toSecPsec, toSeconds } from '../../src/core/time.js';

describe('picosecond wire time', () => {
  it('keeps every picosecond of a DPMI timestamp that a double would lose', () => {
    const ts = fromSecPsec(1_732_530_000, 999_999_999_999n);
    expect(ts).toBe(1_732_530_000_999_999_999_999n);
    // A float of seconds cannot represent this value exactly: the reason for bigint.
    expect(BigInt(Math.round(Number(ts)))).not.toBe(ts);
    expect(toSecPsec(ts)).toEqual({ sec: 1_732_530_000n, psec: 999_999_999_999n });
  });

  it('converts pcap microseconds and formats with full precision', () => {
    const ts = fromSecUsec(10, 250_000);
    expect(ts).toBe(10_250_000_000_000n);
    expect(formatSeconds(ts)).toBe('10.250000000000');
    expect(formatSeconds(-1n)).toBe('-0.000000000001');
    expect(toSeconds(ts)).toBeCloseTo(10.25, 12);
    expect(secondsToPicos(0.1244)).toBe(124_400_000_000n);
    expect(formatIso(fromSecPsec(0, 1n))).toBe('1970-01-01T00:00:00.000000000001Z');
  });
});
