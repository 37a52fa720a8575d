/**
 * A first-in first-out queue with O(1) amortised push and shift. (Using a Map's
 * insertion order for "the oldest" is O(deleted entries) per lookup in V8: deleted slots
 * stay in the table until it is rehashed, and iteration walks over them.)
 */
export class FifoQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  push(x: T): void {
    this.items.push(x);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the consumed prefix is half the array: each item moves O(1) times.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}
