// Rebuilds the member's durable Raft state from a stream of WAL records, as etcd's ReadAll does:
// the metadata (all copies must agree), the last hard state, the snapshot marks, and the entries
// after the snapshot the WAL is opened from, a later entry cutting off every entry from its index
// on (a Raft truncation).
import type { Entry, HardState } from '../raft/messages.ts';
import { emptyHardState } from '../raft/messages.ts';
import { WalError, WalErrorCode } from './errors.ts';
import type { SnapshotMark } from './record.ts';
import {
  RecordType,
  copyBytes,
  decodeEntry,
  decodeHardState,
  decodeSnapshotMark,
  peekEntryIndex,
} from './record.ts';
import { corruptSegment } from './segment.ts';

/** The (index, term) of a snapshot: where replay starts. */
export interface SnapshotPosition {
  index: number;
  term: number;
}

/** What replay recovers. */
export interface Replay {
  /** The opaque metadata given to `Wal.create`. */
  metadata: Uint8Array;
  /** The last hard state saved (empty when none was). */
  hardState: HardState;
  /** The log after the snapshot index, contiguous, as the last writes left it. */
  entries: Entry[];
  /** The snapshot marks found in the segments read, in write order. */
  snapshotMarks: SnapshotMark[];
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Accumulates records into a Replay. One builder per open. */
export class ReplayBuilder {
  readonly #start: SnapshotPosition;
  readonly #keepEntries: boolean;
  #metadata: Uint8Array | undefined;
  #hardState: HardState = emptyHardState();
  readonly #entries: Entry[] = [];
  readonly #marks: SnapshotMark[] = [];
  #matched = false;
  /** The index of the last entry record read, whatever its index; -1 before any. */
  lastEntryIndex = -1;
  /** The segment whose records are being fed (for error messages). */
  file = '';

  /** `keepEntries: false` reads only metadata, hard state and marks (cheap scans). */
  constructor(start: SnapshotPosition, keepEntries = true) {
    this.#start = start;
    this.#keepEntries = keepEntries;
  }

  /** Takes one valid record. Throws WalError when its payload is malformed or conflicts. */
  apply(type: RecordType, buf: Buffer, start: number, end: number, offset: number): void {
    switch (type) {
      case RecordType.Entry:
        this.#applyEntry(buf, start, end, offset);
        return;
      case RecordType.HardState: {
        const hs = decodeHardState(buf, start, end);
        if (hs === undefined) throw corruptSegment(this.file, offset, 'malformed hard state');
        this.#hardState = hs;
        return;
      }
      case RecordType.SnapshotMark:
        this.#applyMark(buf, start, end, offset);
        return;
      case RecordType.Metadata: {
        const metadata = buf.subarray(start, end);
        if (this.#metadata === undefined) this.#metadata = copyBytes(buf, start, end);
        else if (!bytesEqual(this.#metadata, metadata)) {
          throw new WalError(
            WalErrorCode.MetadataConflict,
            `wal: cannot open segment "${this.file}": ` +
              `metadata conflicts with earlier metadata at ${offset}`,
            { file: this.file, offset },
          );
        }
        return;
      }
      case RecordType.Crc:
        return;
    }
  }

  #applyEntry(buf: Buffer, start: number, end: number, offset: number): void {
    const index = peekEntryIndex(buf, start, end);
    if (index === undefined) throw corruptSegment(this.file, offset, 'malformed entry');
    this.lastEntryIndex = index;
    if (!this.#keepEntries || index <= this.#start.index) return;
    const position = index - this.#start.index - 1;
    if (position > this.#entries.length) {
      const expected = this.#start.index + this.#entries.length + 1;
      throw new WalError(
        WalErrorCode.EntryGap,
        `wal: cannot replay segment "${this.file}": ` +
          `entry ${index} at ${offset} follows a gap (expected ${expected})`,
        { file: this.file, offset },
      );
    }
    const entry = decodeEntry(buf, start, end);
    if (entry === undefined) throw corruptSegment(this.file, offset, 'malformed entry');
    // A Raft truncation: this entry replaces the one at its index and everything after it.
    this.#entries.length = position;
    this.#entries.push(entry);
  }

  #applyMark(buf: Buffer, start: number, end: number, offset: number): void {
    const mark = decodeSnapshotMark(buf, start, end);
    if (mark === undefined) throw corruptSegment(this.file, offset, 'malformed snapshot mark');
    if (mark.index === this.#start.index) {
      if (mark.term !== this.#start.term) {
        throw new WalError(
          WalErrorCode.SnapshotMismatch,
          `wal: cannot replay from snapshot ${this.#start.index}/${this.#start.term}: ` +
            `segment "${this.file}" marks term ${mark.term} at ${offset}`,
          { file: this.file, offset },
        );
      }
      this.#matched = true;
    }
    this.#marks.push(mark);
  }

  /** The replay; refuses when the snapshot replay starts from was never marked in the WAL. */
  finish(dir: string): Replay {
    if (!this.#matched) {
      const { index, term } = this.#start;
      throw new WalError(
        WalErrorCode.SnapshotNotFound,
        `wal: cannot open "${dir}": no snapshot mark for index ${index} term ${term}`,
      );
    }
    return {
      metadata: this.#metadata ?? new Uint8Array(0),
      hardState: this.#hardState,
      entries: this.#entries,
      snapshotMarks: this.#marks,
    };
  }

  /** The marks and hard state read so far, without the snapshot-match check. */
  partial(): { hardState: HardState; snapshotMarks: SnapshotMark[] } {
    return { hardState: this.#hardState, snapshotMarks: this.#marks };
  }
}
