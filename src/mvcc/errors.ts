// Expected failures of the key space, as values with a code (STYLE §7). Messages are etcd's mvcc
// wording, because clients match on them once the API layer adds its "etcdserver: " prefix.

/** The codes an MvccError can carry. */
export const MvccErrorCode = {
  /** The revision asked for is below the compact revision; its history is gone. */
  compacted: 'compacted',
  /** The revision asked for is above the current revision. */
  futureRevision: 'future-revision',
  /** A key or range bound is longer than the backend can index. */
  keyTooLarge: 'key-too-large',
  /** A put's key is empty (the API layer should have refused it). */
  emptyKey: 'empty-key',
  /** The store is closed, or busy with an exclusive operation (defragment). */
  closed: 'closed',
} as const;

/** One of MvccErrorCode's values. */
export type MvccErrorCode = (typeof MvccErrorCode)[keyof typeof MvccErrorCode];

const messages: Record<MvccErrorCode, string> = {
  compacted: 'mvcc: required revision has been compacted',
  'future-revision': 'mvcc: required revision is a future revision',
  'key-too-large': 'mvcc: key is too large',
  'empty-key': 'mvcc: key is empty',
  closed: 'mvcc: closed',
};

/** Structured detail of an MvccError. */
export interface MvccErrorFields {
  compactRevision?: number;
  currentRevision?: number;
  detail?: string;
}

/** An expected failure of a key-space operation. `compactRevision` is set for `compacted`. */
export class MvccError extends Error {
  override name = 'MvccError';
  readonly code: MvccErrorCode;
  /** The store's compact revision when the error is `compacted`, else 0. */
  readonly compactRevision: number;
  /** The store's current revision when the error was raised. */
  readonly currentRevision: number;

  constructor(code: MvccErrorCode, fields: MvccErrorFields = {}) {
    const base = messages[code];
    super(fields.detail === undefined ? base : `${base}: ${fields.detail}`);
    this.code = code;
    this.compactRevision = fields.compactRevision ?? 0;
    this.currentRevision = fields.currentRevision ?? 0;
  }
}

/** True when `error` is an MvccError with the given code. */
export function isMvccError(error: unknown, code?: MvccErrorCode): error is MvccError {
  return error instanceof MvccError && (code === undefined || error.code === code);
}
