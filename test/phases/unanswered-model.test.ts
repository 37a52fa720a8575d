/**
 * UnansweredRequests keeps its newest entry out of its map (so an echo answered before
 * the next request costs no map operation): checked against the plain model — a map
 * from each number to its oldest outstanding request, deleted when that request goes —
 * on random echo traffic with duplicates, replays, losses and replies out of order.
 */
import { describe, expect, it } from 'vitest';
import { MAX_UNANSWERED, UnansweredRequests } from '../../src/phases/downtime.js';
import { intsFrom, seededRandom } from '../helpers/rng.js';

class Model {
  private readonly seqs: number[] = [];
  private readonly at = new Map<number, number>();
  private head = 0;

  push(seq: number): void {
    const index = this.head + this.seqs.length;
    this.seqs.push(seq);
    if (!this.at.has(seq)) this.at.set(seq, index);
    if (this.seqs.length > MAX_UNANSWERED) this.drop(1);
  }

  answer(seq: number): number {
    const index = this.at.get(seq);
    if (index === undefined) return 0;
    const older = index - this.head;
    this.drop(older + 1);
    return older;
  }

  get size(): number {
    return this.seqs.length;
  }

  private drop(n: number): void {
    for (let i = 0; i < n; i++) {
      const seq = this.seqs.shift()!;
      if (this.at.get(seq) === this.head) this.at.delete(seq);
      this.head++;
    }
  }
}

describe('unanswered echo requests', () => {
  it('answer and size as the plain map model, on random traffic', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const int = intsFrom(seededRandom(seed));
      const u = new UnansweredRequests();
      const m = new Model();
      let next = 0;
      for (let step = 0; step < 20_000; step++) {
        const r = int(100);
        if (r < 45) {
          // A request: usually the next number, sometimes one repeated or from far away.
          const seq = r < 35 ? next++ & 0xffff : r < 40 ? (next - 1 - int(4)) & 0xffff : int(0x10000);
          u.push(seq);
          m.push(seq);
        } else {
          // A reply: to a recent request (in order, late, or twice), or to none.
          const seq = r < 90 ? (next - 1 - int(r < 80 ? 2 : 20)) & 0xffff : int(0x10000);
          expect(u.answer(seq), `seed ${seed} step ${step}`).toBe(m.answer(seq));
        }
        expect(u.size).toBe(m.size);
      }
    }
  });
});
