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
  /** The peer answered a snapshot with an error status. */
  SnapshotRefused: 'transport-snapshot-refused',
  /** The peer is not known to this transport. */
  UnknownPeer: 'transport-unknown-peer',
  /** The connection failed or closed before the operation finished. */
  Connection: 'transport-connection',
  /** The transport was closed. */
  Closed: 'transport-closed',
  /** Options are inconsistent (an https URL without TLS material, a bad URL). */
  BadConfig: 'transport-bad-config',
} as const;
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/** An expected failure of the transport. */
export class TransportError extends Error {
  override name = 'TransportError';
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a TransportError, optionally of the given code. */
export function isTransportError(err: unknown, code?: TransportErrorCode): err is TransportError {
  return err instanceof TransportError && (code === undefined || err.code === code);
}
