import type { HeldRange } from './held-range.js';

/**
 * The held ranges of one TCP direction, ordered by stream offset: a treap (random
 * priorities, so an attacker cannot choose its shape), O(log n) expected per
 * operation. Ranges never overlap, so `start` is a unique key; a range's start may be
 * moved in place as long as it does not pass a neighbour.
 */
export class OffsetTree {
  private root: HeldRange | null = null;
  size = 0;

  /** The range with the greatest start ≤ off, or null. */
  floor(off: number): HeldRange | null {
    let n = this.root;
    let best: HeldRange | null = null;
    while (n !== null) {
      if (n.start <= off) { best = n; n = n.right; } else n = n.left;
    }
    return best;
  }

  /** The range with the least start ≥ off, or null. */
  ceil(off: number): HeldRange | null {
    let n = this.root;
    let best: HeldRange | null = null;
    while (n !== null) {
      if (n.start >= off) { best = n; n = n.left; } else n = n.right;
    }
    return best;
  }

  first(): HeldRange | null {
    let n = this.root;
    if (n === null) return null;
    while (n.left !== null) n = n.left;
    return n;
  }

  last(): HeldRange | null {
    let n = this.root;
    if (n === null) return null;
    while (n.right !== null) n = n.right;
    return n;
  }

  insert(r: HeldRange): void {
    r.left = r.right = null;
    this.root = insertNode(this.root, r);
    this.size++;
  }

  remove(r: HeldRange): void {
    this.root = removeNode(this.root, r);
    r.left = r.right = null;
    this.size--;
  }

  /** Every range, in order (for releasing them all). */
  clear(each: (r: HeldRange) => void): void {
    const stack: HeldRange[] = [];
    if (this.root !== null) stack.push(this.root);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.left !== null) stack.push(n.left);
      if (n.right !== null) stack.push(n.right);
      n.left = n.right = null;
      each(n);
    }
    this.root = null;
    this.size = 0;
  }
}

// Recursion depth is the treap's height: O(log n) expected whatever the insertion order.
function insertNode(t: HeldRange | null, r: HeldRange): HeldRange {
  if (t === null) return r;
  if (r.start < t.start) {
    t.left = insertNode(t.left, r);
    if (t.left.pri > t.pri) return rotateRight(t);
  } else {
    t.right = insertNode(t.right, r);
    if (t.right.pri > t.pri) return rotateLeft(t);
  }
  return t;
}

function removeNode(t: HeldRange | null, r: HeldRange): HeldRange | null {
  if (t === null) return null;
  if (t === r) return join(t.left, t.right);
  if (r.start < t.start) t.left = removeNode(t.left, r);
  else t.right = removeNode(t.right, r);
  return t;
}

/** Joins two treaps, every key of `a` below every key of `b`. */
function join(a: HeldRange | null, b: HeldRange | null): HeldRange | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.pri > b.pri) { a.right = join(a.right, b); return a; }
  b.left = join(a, b.left);
  return b;
}

function rotateRight(t: HeldRange): HeldRange {
  const l = t.left!;
  t.left = l.right;
  l.right = t;
  return l;
}

function rotateLeft(t: HeldRange): HeldRange {
  const r = t.right!;
  t.right = r.left;
  r.left = t;
  return r;
}
