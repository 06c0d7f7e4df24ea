// The Raft log: persisted entries (Storage) followed by not-yet-persisted ones (UnstableLog), with
// the commit and apply cursors.
// Invariants: applied <= committed <= lastIndex; committed never decreases; entries at or below
// committed are never overwritten.
import { assert } from '../util/assert.ts';
import { type Entry, type Snapshot, entryBytes } from './messages.ts';
import { UnstableLog } from './log-unstable.ts';
import { type Storage, StorageError, StorageErrorCode, limitSize } from './storage.ts';

/** Thrown by `slice` when the range reaches into compacted entries. */
export class LogCompactedError extends Error {
  override name = 'LogCompactedError';
}

/** The log of one node. */
export class RaftLog {
  readonly storage: Storage;
  readonly unstable: UnstableLog;
  /** The highest index known to be committed. Invariant: never decreases. */
  committed: number;
  /** The highest index applied by the caller. Invariant: applied <= committed. */
  applied: number;
  /** The highest index handed out for applying (≥ applied), not yet acknowledged by advance. */
  applying: number;
  /** Bytes of committed entries handed out per Ready (0: unbounded). */
  readonly committedBytesMax: number;

  constructor(storage: Storage, committedBytesMax: number) {
    this.storage = storage;
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new UnstableLog(lastIndex + 1);
    // Everything up to the snapshot is committed and applied.
    this.committed = firstIndex - 1;
    this.applied = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.committedBytesMax = committedBytesMax;
  }

  /**
   * Appends entries from a leader's App message whose previous entry is (index, logTerm).
   * Returns the last new index, or undefined when the previous entry does not match.
   */
  maybeAppend(index: number, logTerm: number, committed: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `raft log: entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  /** Appends entries at their indexes (truncating a conflicting tail); returns the last index. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0]!.index - 1;
    assert(after >= this.committed, () => `raft log: append after ${after} is below committed ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * The index of the first entry whose term differs from the log's (0 when none does). Entries
   * beyond the log count as conflicting (they are new).
   */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * For fast back-off: the largest index ≤ `index` whose term is ≤ `term`, and that term
   * (0 when unknown: compacted or unavailable).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const ourTerm = this.term(i);
      if (ourTerm === undefined) return { index: i, term: 0 };
      if (ourTerm <= term) return { index: i, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  /** Entries not yet persisted. */
  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Index of the last persisted entry (or snapshot). */
  stableLastIndex(): number {
    // NB: with a pending snapshot nothing of it is persisted yet; what storage holds is older.
    if (this.unstable.snapshot !== undefined) return this.storage.lastIndex();
    return this.unstable.offset - 1;
  }

  /** Committed entries not yet handed out, within the byte budget. */
  nextCommittedEntries(): Entry[] {
    if (this.unstable.snapshot !== undefined) return []; // the snapshot applies first
    const lo = this.applying + 1;
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.committedBytesMax === 0 ? Number.MAX_SAFE_INTEGER : this.committedBytesMax);
  }

  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === undefined && this.committed > this.applying;
  }

  /** The snapshot to hand out: the pending unstable one, else the storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'raft log: unexpected error getting the last term');
    return t;
  }

  /** Moves the commit index forward (never back). */
  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `raft log: commit ${index} is out of range [lastIndex ${this.lastIndex()}]; was the log corrupted, truncated, or lost?`);
    this.committed = index;
  }

  /** The caller has applied entries up to `index`. */
  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index <= this.committed && index >= this.applied, () => `raft log: applied ${index} is out of range [prev applied ${this.applied}, committed ${this.committed}]`);
    this.applied = index;
    if (this.applying < index) this.applying = index;
  }

  /** Entries were handed out for applying up to `index`. */
  applyingTo(index: number): void {
    if (index > this.applying) this.applying = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** The term of the entry at `index`, or undefined when compacted or beyond the log. */
  term(index: number): number | undefined {
    const dummyIndex = this.firstIndex() - 1;
    if (index < dummyIndex || index > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    try {
      return this.storage.term(index);
    } catch (err) {
      if (err instanceof StorageError) return undefined;
      throw err;
    }
  }

  /** Entries from `index` on, at most `maxBytes` (at least one). Throws LogCompactedError. */
  entries(index: number, maxBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxBytes);
  }

  /** True when a candidate with this last entry is at least as up to date as this log (§5.4.1). */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Commits `maxIndex` if its entry is of `term` (only the current term's entries commit by counting). */
  maybeCommit(maxIndex: number, term: number, anyTerm = false): boolean {
    if (maxIndex > this.committed && (anyTerm || this.term(maxIndex) === term)) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Replaces the log with a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /** Entries in [lo, hi), at most `maxBytes` (at least one). Throws LogCompactedError. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    this.#checkOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let result: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, Math.min(hi, offset), maxBytes);
      } catch (err) {
        if (err instanceof StorageError && err.code === StorageErrorCode.Compacted) {
          throw new LogCompactedError(`raft log: entries from ${lo} are compacted`);
        }
        throw err;
      }
      // The storage stopped early because of the size limit: that's all for this call.
      if (stored.length < Math.min(hi, offset) - lo) return stored;
      result = stored;
    }
    if (hi > offset) {
      const fresh = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length > 0 ? result.concat(fresh) : fresh;
    }
    return limitSize(result, maxBytes);
  }

  #checkOutOfBounds(lo: number, hi: number): void {
    assert(lo <= hi, () => `raft log: invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new LogCompactedError(`raft log: entries from ${lo} are compacted (first ${first})`);
    const length = this.lastIndex() + 1 - first;
    assert(hi <= first + length, () => `raft log: slice [${lo},${hi}) out of bound [${first},${this.lastIndex()}]`);
  }

  /** A short description for traces. */
  describe(): string {
    return `committed=${this.committed} applied=${this.applied} unstable.offset=${this.unstable.offset} unstable.entries=${this.unstable.entries.length}`;
  }
}

/** Total bytes of entries, as counted by per-message limits. */
export function entriesBytes(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) n += entryBytes(e);
  return n;
}
