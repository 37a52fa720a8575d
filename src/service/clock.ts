import { PS_PER_US, type Picos } from '../core/time.js';

/**
 * The service's idea of "now" in wire time. A paced source (live capture, a file
 * replayed in real time) keeps time between packets: now = latest wire timestamp + the
 * wall time since it arrived (× the replay speed). An unpaced replay only has its
 * timestamps: now = the latest one.
 */
export class WireClock {
  private last: Picos | undefined;
  private wallAt = 0;

  /** `wallMs`: the wall clock in ms (tests give their own). */
  constructor(private readonly paced: boolean, private readonly speed = 1, private readonly wallMs: () => number = () => performance.now()) {}

  observe(ts: Picos): void {
    if (this.last === undefined || ts > this.last) {
      this.last = ts;
      this.wallAt = this.wallMs();
    }
  }

  now(): Picos | undefined {
    if (this.last === undefined || !this.paced) return this.last;
    const ms = (this.wallMs() - this.wallAt) * this.speed;
    return this.last + BigInt(Math.round(ms * 1000)) * PS_PER_US;
  }
}
