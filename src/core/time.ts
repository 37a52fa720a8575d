/**
 * Wire time. DPMI carries picoseconds; a JS number of seconds would lose them past
 * ~2^53 ps (≈ 2.5 hours since the epoch is already 1.7e21 ps), so every timestamp and
 * duration in migscope is a bigint count of picoseconds since the Unix epoch.
 */
export type Picos = bigint;

export const PS_PER_NS = 1_000n;
export const PS_PER_US = 1_000_000n;
export const PS_PER_MS = 1_000_000_000n;
export const PS_PER_S = 1_000_000_000_000n;

/** (seconds, picoseconds-within-second) → picoseconds since the epoch. */
export function fromSecPsec(sec: number | bigint, psec: number | bigint): Picos {
  return BigInt(sec) * PS_PER_S + BigInt(psec);
}

export function toSecPsec(ts: Picos): { sec: bigint; psec: bigint } {
  return { sec: ts / PS_PER_S, psec: ts % PS_PER_S };
}

export function fromSecUsec(sec: number, usec: number): Picos {
  return BigInt(sec) * PS_PER_S + BigInt(usec) * PS_PER_US;
}

export function fromSecNsec(sec: number, nsec: number): Picos {
  return BigInt(sec) * PS_PER_S + BigInt(nsec) * PS_PER_NS;
}

/** Seconds as a float, for display and statistics only (never for storage). */
export function toSeconds(d: Picos): number {
  const whole = d / PS_PER_S;
  const frac = d % PS_PER_S;
  return Number(whole) + Number(frac) / 1e12;
}

export function toMillis(d: Picos): number {
  return toSeconds(d) * 1e3;
}

/** Seconds (decimal, e.g. from the study's tables) → picoseconds, rounded to the ps. */
export function secondsToPicos(s: number): Picos {
  return BigInt(Math.round(s * 1e6)) * PS_PER_US;
}

/** "1.234567890123" seconds with full picosecond precision. */
export function formatSeconds(d: Picos): string {
  const neg = d < 0n;
  const a = neg ? -d : d;
  const frac = (a % PS_PER_S).toString().padStart(12, '0');
  return `${neg ? '-' : ''}${a / PS_PER_S}.${frac}`;
}

/** ISO-8601 UTC with picoseconds, e.g. 2026-11-25T11:00:00.123456789012Z. */
export function formatIso(ts: Picos): string {
  const { sec, psec } = toSecPsec(ts);
  const iso = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return `${iso}.${psec.toString().padStart(12, '0')}Z`;
}
