// The expected failures of the wal room: one error class carrying a code from a const object, so
// the member can branch on `code` and the API layer can map it once. Bugs are not here: a broken
// invariant (an entry batch with a gap, a save after a failed write) throws InvariantError instead.

/** Why a WAL or snapshot operation failed. */
export const WalErrorCode = {
  /** `Wal.create` found segment files already in the directory. */
  Exists: 'wal-exists',
  /** The directory holds no segment file: not a WAL. */
  NotFound: 'wal-not-found',
  /** Segment sequence numbers are not contiguous: a segment is missing. */
  SequenceGap: 'wal-sequence-gap',
  /** A record failed its CRC, or is malformed, before the tail: the WAL cannot be trusted. */
  Corrupt: 'wal-corrupt',
  /** Two metadata records disagree. */
  MetadataConflict: 'wal-metadata-conflict',
  /** No segment covers, or no snapshot mark matches, the snapshot asked for in `Wal.open`. */
  SnapshotNotFound: 'wal-snapshot-not-found',
  /** A snapshot mark has the asked-for index but a different term. */
  SnapshotMismatch: 'wal-snapshot-mismatch',
  /** Replayed entries leave a gap after the snapshot (opened from too old a snapshot). */
  EntryGap: 'wal-entry-gap',
  /** A single record would exceed the record size limit. */
  RecordTooLarge: 'wal-record-too-large',
  /** The WAL was closed. */
  Closed: 'wal-closed',
  /** An earlier write or sync failed; nothing more is written until the WAL is reopened. */
  Failed: 'wal-failed',
  /** A snapshot file failed its CRC or is malformed. */
  SnapshotCorrupt: 'snap-corrupt',
} as const;
export type WalErrorCode = (typeof WalErrorCode)[keyof typeof WalErrorCode];

/** Structured detail some errors carry. */
export interface WalErrorDetail {
  /** The file concerned (a segment or snapshot file name, not a path). */
  file?: string;
  /** The byte offset in `file` where the problem was found. */
  offset?: number;
  /** The error that caused this one (an I/O error, say). */
  cause?: unknown;
}

/** An expected failure of the WAL or the snapshotter. */
export class WalError extends Error {
  override name = 'WalError';
  readonly code: WalErrorCode;
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(code: WalErrorCode, message: string, detail: WalErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.code = code;
    this.file = detail.file;
    this.offset = detail.offset;
  }
}

/** True when `err` is a WalError, optionally of the given code. */
export function isWalError(err: unknown, code?: WalErrorCode): err is WalError {
  return err instanceof WalError && (code === undefined || err.code === code);
}
