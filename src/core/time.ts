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

/** Picoseconds → whole seconds (rounded down, also before the epoch) and the picoseconds after them (0 ≤ psec < 10^12). */
export function toSecPsec(ts: Picos): { sec: bigint; psec: bigint } {
  const psec = ((ts % PS_PER_S) + PS_PER_S) % PS_PER_S;
  return { sec: (ts - psec) / PS_PER_S, psec };
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

const SECONDS_PER_DAY = 86_400n;

/**
 * Wire times from 1970 up to (not including) this, 10000-01-01, are plausible; a
 * capture's clock outside that range (pcapng if_tsoffset can say anything) is counted as
 * an anomaly, though the bigint carries it through unchanged.
 */
export const WIRE_TIME_END: Picos = 253_402_300_800n * PS_PER_S;

/**
 * Proleptic Gregorian date of a day count since 1970-01-01, for any count (bigint, so
 * no range limit: Date stops at ±8.64·10^15 ms). The standard era arithmetic: 400-year
 * eras of 146 097 days, years counted from March so that the leap day is last.
 */
function civilFromDays(days: bigint): { year: bigint; month: number; day: number } {
  const z = days + 719_468n; // days since 0000-03-01
  const era = (z >= 0n ? z : z - 146_096n) / 146_097n;
  const doe = z - era * 146_097n; // [0, 146096]
  const yoe = (doe - doe / 1_460n + doe / 36_524n - doe / 146_096n) / 365n; // [0, 399]
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n); // [0, 365]
  const mp = (5n * doy + 2n) / 153n; // month from March, [0, 11]
  const day = Number(doy - (153n * mp + 2n) / 5n + 1n);
  const month = Number(mp < 10n ? mp + 3n : mp - 9n);
  return { year: yoe + era * 400n + (month <= 2 ? 1n : 0n), month, day };
}

/** ISO 8601 year: four digits for 0000–9999, else the expanded form (sign, at least six digits). */
function isoYear(year: bigint): string {
  if (year >= 0n && year <= 9999n) return year.toString().padStart(4, '0');
  return `${year < 0n ? '-' : '+'}${(year < 0n ? -year : year).toString().padStart(6, '0')}`;
}

const two = (n: number | bigint): string => n.toString().padStart(2, '0');

/**
 * ISO-8601 UTC with picoseconds, e.g. 2026-11-25T11:00:00.123456789012Z. Any bigint is
 * formatted correctly: before the epoch (1969-12-31T23:58:21.300000000000Z) and past
 * year 9999 (expanded years, +285426-…) alike — a capture's clock can say anything.
 */
export function formatIso(ts: Picos): string {
  const { sec, psec } = toSecPsec(ts);
  const secOfDay = ((sec % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
  const { year, month, day } = civilFromDays((sec - secOfDay) / SECONDS_PER_DAY);
  const s = Number(secOfDay);
  const time = `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return `${isoYear(year)}-${two(month)}-${two(day)}T${time}.${psec.toString().padStart(12, '0')}Z`;
}

/**
 * The wire time of the packet being handled, kept as integer seconds + picoseconds
 * (< 10^12) so that the per-packet path makes no bigint: comparisons use the two numbers
 * and `ts` builds the bigint on first use only (a message or anomaly being made, bytes
 * held out of order). One clock per Dissector, reset at every packet; a consumer that
 * keeps a time keeps `ts` (or the two numbers), never the clock.
 */
export class PacketClock {
  sec = 0;
  psec = 0;
  /** Set from a bigint whose seconds exceed 2^53 (a pcapng offset can say anything): only `ts` is exact. */
  wide = false;
  private made = false;
  private big: Picos = 0n;
  /** A second and sec·10^12 (always a matching pair): packets of one second share it. */
  private cachedSec = 0;
  private cachedSecPs = 0n;

  set(sec: number, psec: number): void {
    this.sec = sec;
    this.psec = psec;
    this.wide = false;
    this.made = false;
  }

  /** Takes the other clock's time (exact bigint included). */
  copyFrom(o: PacketClock): void {
    this.sec = o.sec;
    this.psec = o.psec;
    this.wide = o.wide;
    this.made = o.made;
    this.big = o.big;
  }

  /**
   * Sets the clock from a bigint time (callers that hold one already). A time in the
   * second of the previous one costs a subtraction, not a division.
   */
  setTs(ts: Picos): void {
    this.big = ts;
    this.made = true;
    const d = ts - this.cachedSecPs;
    if (d >= 0n && d < PS_PER_S) {
      this.sec = this.cachedSec;
      this.psec = Number(d);
      this.wide = false;
      return;
    }
    let sec = ts / PS_PER_S;
    let psec = ts % PS_PER_S;
    if (psec < 0n) { psec += PS_PER_S; sec -= 1n; }
    this.sec = Number(sec);
    this.psec = Number(psec);
    this.wide = !Number.isSafeInteger(this.sec);
    if (!this.wide) {
      this.cachedSec = this.sec;
      this.cachedSecPs = ts - psec;
    }
  }

  get ts(): Picos {
    if (!this.made) {
      if (this.sec !== this.cachedSec) {
        this.cachedSec = this.sec;
        this.cachedSecPs = BigInt(this.sec) * PS_PER_S;
      }
      this.big = this.cachedSecPs + BigInt(this.psec);
      this.made = true;
    }
    return this.big;
  }

  /** Is this clock's time earlier than (sec, psec)? */
  before(sec: number, psec: number): boolean {
    return this.sec < sec || (this.sec === sec && this.psec < psec);
  }
}

/**
 * The wall clock in µs since the epoch, sub-µs resolution (performance.now() on the
 * thread's own time origin): comparable across threads with live packets' kernel time
 * stamps, for latency figures only (never a wire time).
 */
export function wallClockUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}
