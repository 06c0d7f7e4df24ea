// An interval tree for watcher ranges (etcd's adt.IntervalTree, as a treap): half-open intervals
// [start, end) over byte strings held as latin1 strings, each interval holding a set of values.
// Invariant: every node's maxEnd is the largest end in its subtree; the tree is a BST on
// (start, end) and a heap on priority, so its depth is O(log n) expected.
//
// Query cost: stab(point) visits O(log n + k·log n) nodes at worst for k matching intervals;
// insert and remove are O(log n) expected. Priorities come from a fixed-seed xorshift, so the
// shape (and thus every test run) is deterministic.

/** An end above every latin1 string: the "no upper bound" of etcd's "\0" range end. */
export const unboundedEnd = '\u0100';

interface Node<T> {
  start: string;
  end: string;
  priority: number;
  maxEnd: string;
  values: Set<T>;
  left: Node<T> | undefined;
  right: Node<T> | undefined;
}

function compare(aStart: string, aEnd: string, bStart: string, bEnd: string): number {
  if (aStart !== bStart) return aStart < bStart ? -1 : 1;
  if (aEnd !== bEnd) return aEnd < bEnd ? -1 : 1;
  return 0;
}

function update<T>(node: Node<T>): Node<T> {
  let max = node.end;
  if (node.left !== undefined && node.left.maxEnd > max) max = node.left.maxEnd;
  if (node.right !== undefined && node.right.maxEnd > max) max = node.right.maxEnd;
  node.maxEnd = max;
  return node;
}

/** Splits by (start, end): nodes ordered before it go left, the rest right. */
function split<T>(
  node: Node<T> | undefined,
  start: string,
  end: string,
): [Node<T> | undefined, Node<T> | undefined] {
  if (node === undefined) return [undefined, undefined];
  if (compare(node.start, node.end, start, end) < 0) {
    const [l, r] = split(node.right, start, end);
    node.right = l;
    return [update(node), r];
  }
  const [l, r] = split(node.left, start, end);
  node.left = r;
  return [l, update(node)];
}

function merge<T>(a: Node<T> | undefined, b: Node<T> | undefined): Node<T> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return update(a);
  }
  b.left = merge(a, b.left);
  return update(b);
}

function removeNode<T>(node: Node<T> | undefined, start: string, end: string): Node<T> | undefined {
  if (node === undefined) return undefined;
  const c = compare(start, end, node.start, node.end);
  if (c === 0) return merge(node.left, node.right);
  if (c < 0) node.left = removeNode(node.left, start, end);
  else node.right = removeNode(node.right, start, end);
  return update(node);
}

/** Intervals [start, end) of latin1 strings, each with a set of values. */
export class IntervalTree<T> {
  #root: Node<T> | undefined;
  #intervals = 0;
  #seed = 0x2545f491;

  /** How many distinct intervals are stored. */
  get intervalCount(): number {
    return this.#intervals;
  }

  /** Adds `value` to interval [start, end); `end` may be `unboundedEnd`. */
  insert(start: string, end: string, value: T): void {
    const found = this.#find(start, end);
    if (found !== undefined) {
      found.values.add(value);
      return;
    }
    const node: Node<T> = {
      start,
      end,
      priority: this.#nextPriority(),
      maxEnd: end,
      values: new Set([value]),
      left: undefined,
      right: undefined,
    };
    const [l, r] = split(this.#root, start, end);
    this.#root = merge(merge(l, node), r);
    this.#intervals++;
  }

  /** Removes `value` from interval [start, end); drops the interval when it holds no value. */
  remove(start: string, end: string, value: T): boolean {
    const found = this.#find(start, end);
    if (found === undefined || !found.values.delete(value)) return false;
    if (found.values.size === 0) {
      this.#root = removeNode(this.#root, start, end);
      this.#intervals--;
    }
    return true;
  }

  /** Calls `fn` with every value whose interval contains `point`. */
  stab(point: string, fn: (value: T) => void): void {
    const visit = (node: Node<T> | undefined): void => {
      // No interval below here ends after the point: nothing can contain it.
      if (node === undefined || node.maxEnd <= point) return;
      visit(node.left);
      // Right of a node that starts after the point everything starts after it too.
      if (node.start > point) return;
      if (point < node.end) for (const value of node.values) fn(value);
      visit(node.right);
    };
    visit(this.#root);
  }

  #find(start: string, end: string): Node<T> | undefined {
    let node = this.#root;
    while (node !== undefined) {
      const c = compare(start, end, node.start, node.end);
      if (c === 0) return node;
      node = c < 0 ? node.left : node.right;
    }
    return undefined;
  }

  #nextPriority(): number {
    // xorshift32: deterministic, well spread; only the heap order depends on it.
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed;
  }
}
