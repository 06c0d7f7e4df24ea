// The leader's window of append messages in flight to one follower: a ring buffer of
// (last index, bytes) pairs, added in increasing index order and freed from the front as the
// follower acknowledges. Bounded by a message count and, optionally, a byte total.
import { assert } from '../../util/assert.ts';

// The ring starts small and doubles up to `capacity`: most followers keep few messages in flight,
// and a leader of many followers should not pay for a full window each.
const INITIAL_SLOTS_MAX = 16;

/** A bounded FIFO of in-flight append messages, each identified by the index of its last entry. */
export class Inflights {
  /** Maximum messages in flight. */
  readonly capacity: number;
  /** Maximum bytes in flight (0: unbounded). */
  readonly bytesMax: number;
  // Float64Array holds integer indexes exactly up to 2^53, the range of a log index.
  #indexes: Float64Array;
  #bytes: Float64Array;
  #start = 0;
  #count = 0;
  #bytesTotal = 0;

  constructor(capacity: number, bytesMax: number) {
    assert(Number.isInteger(capacity) && capacity > 0, () => `inflights: bad capacity ${capacity}`);
    assert(bytesMax >= 0, () => `inflights: bad bytesMax ${bytesMax}`);
    this.capacity = capacity;
    this.bytesMax = bytesMax;
    const slots = Math.min(capacity, INITIAL_SLOTS_MAX);
    this.#indexes = new Float64Array(slots);
    this.#bytes = new Float64Array(slots);
  }

  /** Records a message whose last entry is `index`, with `bytes` of payload. Must not be full. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights: cannot add into a full window');
    if (this.#count > 0) {
      const last = this.#indexes[this.#slot(this.#count - 1)]!;
      assert(index > last, () => `inflights: index ${index} added after ${last}`);
    }
    if (this.#count === this.#indexes.length) this.#grow();
    const slot = this.#slot(this.#count);
    this.#indexes[slot] = index;
    this.#bytes[slot] = bytes;
    this.#count++;
    this.#bytesTotal += bytes;
  }

  /** Frees every message whose last index is ≤ `index` (the follower acknowledged up to it). */
  freeLE(index: number): void {
    let freed = 0;
    let bytes = 0;
    let slot = this.#start;
    const slots = this.#indexes.length;
    while (freed < this.#count && this.#indexes[slot]! <= index) {
      bytes += this.#bytes[slot]!;
      freed++;
      slot = slot + 1 === slots ? 0 : slot + 1;
    }
    this.#count -= freed;
    this.#bytesTotal -= bytes;
    this.#start = this.#count === 0 ? 0 : slot;
  }

  /**
   * Frees the oldest message. A leader can use this on a heartbeat response to let a stalled,
   * full window make progress again (etcd did this before flow-control pausing).
   */
  freeFirstOne(): void {
    if (this.#count === 0) return;
    this.freeLE(this.#indexes[this.#start]!);
  }

  /** No further message may be sent: the count or the byte budget is used up. */
  full(): boolean {
    if (this.#count === this.capacity) return true;
    return this.bytesMax > 0 && this.#bytesTotal >= this.bytesMax;
  }

  /** Messages in flight. */
  count(): number {
    return this.#count;
  }

  /** Bytes in flight. */
  bytes(): number {
    return this.#bytesTotal;
  }

  /** Forgets every message: the follower changed state, nothing in flight is counted on. */
  reset(): void {
    this.#start = 0;
    this.#count = 0;
    this.#bytesTotal = 0;
  }

  /** An independent copy with the same contents and limits. */
  clone(): Inflights {
    const copy = new Inflights(this.capacity, this.bytesMax);
    copy.#indexes = this.#indexes.slice();
    copy.#bytes = this.#bytes.slice();
    copy.#start = this.#start;
    copy.#count = this.#count;
    copy.#bytesTotal = this.#bytesTotal;
    return copy;
  }

  /** The indexes in flight, oldest first (for tests and descriptions). */
  indexes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#count; i++) out.push(this.#indexes[this.#slot(i)]!);
    return out;
  }

  /** The ring slot of the i-th message from the front. */
  #slot(i: number): number {
    const slot = this.#start + i;
    return slot >= this.#indexes.length ? slot - this.#indexes.length : slot;
  }

  /** Doubles the ring (up to capacity), unrolling it so the oldest message sits in slot 0. */
  #grow(): void {
    const slots = Math.min(this.capacity, this.#indexes.length * 2);
    const indexes = new Float64Array(slots);
    const bytes = new Float64Array(slots);
    for (let i = 0; i < this.#count; i++) {
      const from = this.#slot(i);
      indexes[i] = this.#indexes[from]!;
      bytes[i] = this.#bytes[from]!;
    }
    this.#indexes = indexes;
    this.#bytes = bytes;
    this.#start = 0;
  }
}
