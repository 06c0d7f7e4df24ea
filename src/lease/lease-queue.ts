// A keyed binary min-heap of (lease id, time): the leader's expiry queue and checkpoint schedule.
// Invariant: every entry is no later than its children, ordered by (timeMs, id) so ties break the
// same way on every run; `#byId` maps each id to its one entry, whose `index` is its slot.
import { assert } from '../util/assert.ts';

interface Entry {
  readonly id: bigint;
  timeMs: number;
  index: number;
}

/** One item of a LeaseQueue. */
export interface LeaseTime {
  readonly id: bigint;
  /** When the item is due, on the lessor's clock (ms). */
  readonly timeMs: number;
}

/** A min-heap of lease ids by time with one entry per id; set, delete and pop are O(log n). */
export class LeaseQueue {
  readonly #heap: Entry[] = [];
  readonly #byId = new Map<bigint, Entry>();

  /** How many ids are queued. */
  get size(): number {
    return this.#heap.length;
  }

  /** Queues `id` at `timeMs`, or moves it there when already queued. */
  set(id: bigint, timeMs: number): void {
    const entry = this.#byId.get(id);
    if (entry === undefined) {
      const added: Entry = { id, timeMs, index: this.#heap.length };
      this.#heap.push(added);
      this.#byId.set(id, added);
      this.#up(added.index);
      return;
    }
    entry.timeMs = timeMs;
    this.#fix(entry.index);
  }

  /** The time `id` is queued at, or undefined. */
  get(id: bigint): number | undefined {
    return this.#byId.get(id)?.timeMs;
  }

  /** Removes `id`; a no-op when it is not queued. */
  delete(id: bigint): void {
    const entry = this.#byId.get(id);
    if (entry === undefined) return;
    this.#removeAt(entry.index);
  }

  /** The earliest item, or undefined when empty. */
  peek(): LeaseTime | undefined {
    const top = this.#heap[0];
    return top === undefined ? undefined : { id: top.id, timeMs: top.timeMs };
  }

  /** Removes and returns the earliest item, or undefined when empty. */
  pop(): LeaseTime | undefined {
    const top = this.peek();
    if (top !== undefined) this.#removeAt(0);
    return top;
  }

  /** Removes every item. */
  clear(): void {
    this.#heap.length = 0;
    this.#byId.clear();
  }

  /** Checks the heap order and the index map (for tests); throws an InvariantError. */
  checkInvariants(): void {
    assert(this.#byId.size === this.#heap.length, 'lease queue: map and heap differ in size');
    this.#heap.forEach((entry, i) => {
      assert(entry.index === i && this.#byId.get(entry.id) === entry, () =>
        `lease queue: entry ${entry.id} is not at its index ${i}`);
      const parent = this.#heap[(i - 1) >> 1];
      assert(i === 0 || (parent !== undefined && !less(entry, parent)), () =>
        `lease queue: entry ${entry.id} is earlier than its parent`);
    });
  }

  #removeAt(index: number): void {
    const removed = this.#heap[index]!;
    const last = this.#heap.pop()!;
    this.#byId.delete(removed.id);
    if (last === removed) return;
    this.#heap[index] = last;
    last.index = index;
    this.#fix(index);
  }

  #fix(index: number): void {
    if (!this.#up(index)) this.#down(index);
  }

  /** Moves the entry at `index` towards the root; true when it moved. */
  #up(index: number): boolean {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(this.#heap[i]!, this.#heap[parent]!)) break;
      this.#swap(i, parent);
      i = parent;
    }
    return i !== index;
  }

  #down(index: number): void {
    let i = index;
    const n = this.#heap.length;
    while (true) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && less(this.#heap[right]!, this.#heap[left]!) ? right : left;
      if (!less(this.#heap[child]!, this.#heap[i]!)) return;
      this.#swap(i, child);
      i = child;
    }
  }

  #swap(i: number, j: number): void {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    this.#heap[i] = b;
    this.#heap[j] = a;
    a.index = j;
    b.index = i;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.id < b.id);
}
