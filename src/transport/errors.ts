// The expected failures of the transport room: one error class with a code from a const object.
// Malformed input from the network is an expected failure (the stream is dropped, never the
// member); a broken invariant on the sending side is a bug and throws InvariantError instead.

/** Why a transport operation failed. */
export const TransportErrorCode = {
  /** A frame or message is truncated, has trailing bytes, or holds an unknown code. */
  Malformed: 'transport-malformed',
  /** A length prefix exceeds its limit. */
  TooLarge: 'transport-too-large',
  /** A snapshot chunk failed its running checksum. */
  SnapshotCorrupt: 'transport-snapshot-corrupt',
  /** A snapshot body ended before its end record. */
  SnapshotTruncated: 'transport-snapshot-truncated',
  /**
   * The peer answered a snapshot with an error status: `status` says which (410: the peer says
   * this member was removed from the cluster), `remoteMessage` its text.
   */
  SnapshotRefused: 'transport-snapshot-refused',
  /** The peer is not known to this transport. */
  UnknownPeer: 'transport-unknown-peer',
  /** The connection failed or closed before the operation finished. */
  Connection: 'transport-connection',
  /** The transport was closed. */
  Closed: 'transport-closed',
  /** Options are inconsistent (an https URL without TLS material, a bad URL). */
  BadConfig: 'transport-bad-config',
  /** A peer request got no answer within its timeoutMs. */
  Timeout: 'transport-timeout',
  /** Too many peer requests to one peer are in flight already (peerRequestsMax). */
  Busy: 'transport-busy',
  /** The peer's handler failed the request: `remoteCode` and `remoteMessage` say how. */
  Remote: 'transport-remote',
  /**
   * The peer's transport turned a request away before its handler saw it (cluster id mismatch,
   * unknown sender, removed sender, too large, busy, no handler): `status` and `remoteCode` say
   * why.
   */
  Refused: 'transport-refused',
} as const;
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/** What a peer answered: for Remote and Refused (a peer request) and SnapshotRefused. */
export interface RemoteFailure {
  /** The HTTP status of the answer. */
  status: number;
  /**
   * The code the peer gave: its handler's error code (Remote) or a RequestRefusal (Refused;
   * SnapshotRefused, where a 410 is `member-removed` and anything else `unknown`).
   */
  remoteCode: string;
  /** The peer's message, as it gave it. */
  remoteMessage: string;
}

/** Options of a TransportError: the cause, and what the peer answered when it answered. */
export interface TransportErrorOptions {
  cause?: unknown;
  remote?: RemoteFailure;
}

/** An expected failure of the transport. */
export class TransportError extends Error {
  override name = 'TransportError';
  readonly code: TransportErrorCode;
  /** HTTP status of the peer's answer (Remote, Refused, SnapshotRefused), else undefined. */
  readonly status: number | undefined;
  /** The peer's own error code (Remote, Refused, SnapshotRefused), else undefined. */
  readonly remoteCode: string | undefined;
  /** The peer's own error message (Remote, Refused, SnapshotRefused), else undefined. */
  readonly remoteMessage: string | undefined;

  constructor(code: TransportErrorCode, message: string, options: TransportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.remote?.status;
    this.remoteCode = options.remote?.remoteCode;
    this.remoteMessage = options.remote?.remoteMessage;
  }
}

/** True when `err` is a TransportError, optionally of the given code. */
export function isTransportError(err: unknown, code?: TransportErrorCode): err is TransportError {
  return err instanceof TransportError && (code === undefined || err.code === code);
}
