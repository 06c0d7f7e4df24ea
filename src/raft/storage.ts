// The Raft core's view of durable state, and an in-memory implementation of it.
// Reads are synchronous: the member keeps the unapplied tail of the log in a MemoryStorage beside
// the WAL. Invariant: entries held are contiguous, starting right after the snapshot index.
import { assert } from '../util/assert.ts';
import {
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  emptyConfState,
  emptyHardState,
  entryBytes,
} from './messages.ts';

/** Why a storage read could not be served. */
export const StorageErrorCode = {
  /** The requested index is at or below the snapshot: it was compacted away. */
  Compacted: 'compacted',
  /** The requested index is beyond the last entry. */
  Unavailable: 'unavailable',
  /** The snapshot is being made; ask again later. */
  SnapshotTemporarilyUnavailable: 'snapshot-temporarily-unavailable',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/** An expected storage failure; the core handles each code. */
export class StorageError extends Error {
  override name = 'StorageError';
  constructor(readonly code: StorageErrorCode, detail: string) {
    super(`raft storage: ${detail}: ${code}`);
  }
}

/** The durable state a node starts from. */
export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/**
 * What the Raft core reads of persisted state. Implementations throw `StorageError` for the
 * expected failures and nothing else.
 */
export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one if any exist, and at most `maxBytes` after the first. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The term of the entry at `index`; valid for [firstIndex()-1, lastIndex()]. */
  term(index: number): number;
  /** The index of the first entry still held (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** Takes entries from the front of `entries` while their total stays within `maxBytes` (at least one). */
export function limitSize(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length === 0) return entries;
  let size = entryBytes(entries[0]!);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entryBytes(entries[n]!);
    if (size > maxBytes) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

/**
 * Storage held in memory. `entries[0]` is a dummy entry carrying the snapshot's index and term,
 * so `term(snapshotIndex)` is answerable.
 */
export class MemoryStorage implements Storage {
  #hardState: HardState = emptyHardState();
  #snapshot: Snapshot = { data: new Uint8Array(0), metadata: { confState: emptyConfState(), index: 0, term: 0 } };
  #entries: Entry[] = [{ term: 0, index: 0, type: 'Normal', data: new Uint8Array(0) }];

  initialState(): InitialState {
    return { hardState: { ...this.#hardState }, confState: this.#snapshot.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.#hardState = { ...hs };
  }

  hardState(): HardState {
    return { ...this.#hardState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.#offset();
    if (lo <= offset) throw new StorageError(StorageErrorCode.Compacted, `entries from ${lo}`);
    if (hi > this.lastIndex() + 1) {
      throw new StorageError(StorageErrorCode.Unavailable, `entries to ${hi} past last ${this.lastIndex()}`);
    }
    if (this.#entries.length === 1) throw new StorageError(StorageErrorCode.Unavailable, 'no entries');
    return limitSize(this.#entries.slice(lo - offset, hi - offset), maxBytes);
  }

  term(index: number): number {
    const offset = this.#offset();
    if (index < offset) throw new StorageError(StorageErrorCode.Compacted, `term of ${index}`);
    if (index - offset >= this.#entries.length) {
      throw new StorageError(StorageErrorCode.Unavailable, `term of ${index}`);
    }
    return this.#entries[index - offset]!.term;
  }

  firstIndex(): number {
    return this.#offset() + 1;
  }

  lastIndex(): number {
    return this.#offset() + this.#entries.length - 1;
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Replaces the whole content with a snapshot (a newer one than held). */
  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    if (index <= this.#snapshot.metadata.index) {
      throw new StorageError(StorageErrorCode.Compacted, `snapshot at ${index} is not newer`);
    }
    this.#snapshot = snapshot;
    this.#entries = [{ term: snapshot.metadata.term, index, type: 'Normal', data: new Uint8Array(0) }];
  }

  /**
   * Makes a snapshot at `index` (≤ last index) with the given data and configuration, for the
   * caller to save and then `compact`.
   */
  createSnapshot(index: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (index <= this.#snapshot.metadata.index) {
      throw new StorageError(StorageErrorCode.Compacted, `snapshot at ${index} is not newer`);
    }
    assert(index <= this.lastIndex(), `raft storage: snapshot ${index} is past last index ${this.lastIndex()}`);
    const offset = this.#offset();
    this.#snapshot = {
      data,
      metadata: {
        index,
        term: this.#entries[index - offset]!.term,
        confState: confState ?? this.#snapshot.metadata.confState,
      },
    };
    return this.#snapshot;
  }

  /** Drops entries before `compactIndex`, which becomes the new dummy entry. */
  compact(compactIndex: number): void {
    const offset = this.#offset();
    if (compactIndex <= offset) throw new StorageError(StorageErrorCode.Compacted, `compact to ${compactIndex}`);
    assert(compactIndex <= this.lastIndex(), `raft storage: compact ${compactIndex} is past last index ${this.lastIndex()}`);
    const i = compactIndex - offset;
    const head = this.#entries[i]!;
    this.#entries = [{ term: head.term, index: head.index, type: 'Normal', data: new Uint8Array(0) }, ...this.#entries.slice(i + 1)];
  }

  /** Appends entries, replacing any held entries from the first new index on. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all already compacted
    const fresh = first > entries[0]!.index ? entries.slice(first - entries[0]!.index) : entries;
    const offset = fresh[0]!.index - this.#offset();
    assert(offset <= this.#entries.length, () => `raft storage: missing log entry before ${fresh[0]!.index} (last ${this.lastIndex()})`);
    if (offset < this.#entries.length) this.#entries.length = offset;
    for (const e of fresh) this.#entries.push(e);
  }

  #offset(): number {
    return this.#entries[0]!.index;
  }
}
