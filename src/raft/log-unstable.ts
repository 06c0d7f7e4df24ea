// Entries (and possibly a snapshot) that the node holds but the caller has not yet persisted.
// Invariant: entries[i].index === offset + i; when a snapshot is held, offset === snapshot index + 1.
import { assert } from '../util/assert.ts';
import type { Entry, Snapshot } from './messages.ts';

/** The not-yet-persisted tail of the log. */
export class UnstableLog {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];
  /** The index of entries[0] (or where the next entry would go). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first index, if a snapshot is held. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** The last index held, if any entry or snapshot is held. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  /** The term of `index`, if held here. */
  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === index) {
        return this.snapshot.metadata.term;
      }
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]!.term;
  }

  /** Entries up to `index` (with term `term`) are persisted: drop them. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    if (t === undefined || t !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  /** The snapshot at `index` is persisted: drop it. */
  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  /** Replaces everything with a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  /** Appends entries, truncating any held entries that they replace. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    const end = this.offset + this.entries.length;
    if (first === end) {
      for (const e of entries) this.entries.push(e);
    } else if (first <= this.offset) {
      // Replaces everything held; the caller persists from here on.
      this.offset = first;
      this.entries = entries.slice();
    } else {
      // Keep [offset, first), then the new entries.
      this.entries = this.entries.slice(0, first - this.offset);
      for (const e of entries) this.entries.push(e);
    }
  }

  /** Entries in [lo, hi). */
  slice(lo: number, hi: number): Entry[] {
    this.#checkBounds(lo, hi);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }

  #checkBounds(lo: number, hi: number): void {
    assert(lo <= hi, () => `raft unstable: invalid slice ${lo} > ${hi}`);
    const upper = this.offset + this.entries.length;
    assert(lo >= this.offset && hi <= upper, () => `raft unstable: slice [${lo},${hi}) out of bounds [${this.offset},${upper}]`);
  }
}
