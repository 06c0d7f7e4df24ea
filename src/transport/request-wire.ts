// The peer request protocol on the wire, shared by both sides. A request is
// `POST /raft/request/<method>` with the stream's headers and the request bytes as its body.
// 200 answers with the response bytes; every other status carries a JSON body {code, message}:
// 500 means the receiving member's handler failed (its own code and message), any other status
// means the receiving transport turned the request away before the handler saw it.
import { PeerProtocol } from './limits.ts';

/** A method name: lower-case letters, digits and dashes, starting with a letter, ≤ 64 chars. */
const METHOD_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
/** Characters of a remote message kept on the wire; longer ones are cut (never a stack trace). */
const MESSAGE_CHARS_MAX = 4096;

/** Why a receiving transport turned a peer request away: the `code` of its error body. */
export const RequestRefusal = {
  /** Not a POST, bad method name, or missing/malformed id headers (400, 405). */
  Malformed: 'malformed',
  /** The request names another cluster (412). */
  ClusterMismatch: 'cluster-id-mismatch',
  /** The request is for another member (412): the URL now belongs to someone else. */
  MemberMismatch: 'member-id-mismatch',
  /** The sender is not a peer of the receiver (404). */
  UnknownSender: 'unknown-sender',
  /**
   * The sender was removed from the cluster (410): permanent, unlike an unknown sender. The
   * sending transport reports it (onRemoved) so the member stops, as etcd's does.
   */
  Removed: 'member-removed',
  /** The body exceeds the receiver's peerRequestBytesMax (413). */
  TooLarge: 'too-large',
  /** The receiver serves no peer requests: it has no onPeerRequest (501). */
  NoHandler: 'no-handler',
  /** peerRequestsMax handler calls for this sender are running already (503). */
  Busy: 'busy',
} as const;
export type RequestRefusal = (typeof RequestRefusal)[keyof typeof RequestRefusal];

/** The HTTP status of each refusal, and of a handler failure. */
export const RequestStatus = {
  Ok: 200,
  Malformed: 400,
  UnknownSender: 404,
  NotPost: 405,
  Removed: 410,
  Mismatch: 412,
  TooLarge: 413,
  HandlerFailed: 500,
  NoHandler: 501,
  Busy: 503,
} as const;

/** The code sent for a handler error that carries no string or number `code`. */
export const UNKNOWN_REMOTE_CODE = 'unknown';

/** The JSON body of every non-200 answer. */
export interface RequestErrorBody {
  code: string;
  message: string;
}

/** True for a valid method name. */
export function isRequestMethod(method: string): boolean {
  return METHOD_PATTERN.test(method);
}

/** The path of a request for `method`. */
export function requestPath(method: string): string {
  return PeerProtocol.requestPathPrefix + method;
}

/** The method named by a request path (query stripped), or undefined for other paths. */
export function requestMethodOf(path: string): string | undefined {
  if (!path.startsWith(PeerProtocol.requestPathPrefix)) return undefined;
  return path.slice(PeerProtocol.requestPathPrefix.length);
}

/** The error body for a refusal or a failure. */
export function encodeErrorBody(code: string, message: string): string {
  return JSON.stringify({ code, message: message.slice(0, MESSAGE_CHARS_MAX) } satisfies RequestErrorBody);
}

/**
 * Reads an error body. Tolerant: an answer that is not ours (a peer too old to know the path
 * answers 404 in plain text) becomes code `unknown` with the text as its message.
 */
export function decodeErrorBody(bytes: Uint8Array): RequestErrorBody {
  const text = new TextDecoder().decode(bytes).slice(0, MESSAGE_CHARS_MAX);
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value) && typeof value['code'] === 'string' && typeof value['message'] === 'string') {
      return { code: value['code'], message: value['message'] };
    }
  } catch {
    // not JSON: fall through
  }
  return { code: UNKNOWN_REMOTE_CODE, message: text.trim() };
}

/** What a handler's thrown value says: its `code` (string or number) and message. */
export function describeHandlerError(err: unknown): RequestErrorBody & { coded: boolean } {
  const raw = isObject(err) ? err['code'] : undefined;
  const coded = typeof raw === 'string' || typeof raw === 'number';
  const message = err instanceof Error ? err.message : String(err);
  return { code: coded ? String(raw) : UNKNOWN_REMOTE_CODE, message, coded };
}

/** Joins received chunks into one plain Uint8Array of its own (not a view into Buffer's pool). */
export function joinChunks(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
