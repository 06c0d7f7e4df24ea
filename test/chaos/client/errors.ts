// Which errors prove that a request had no effect. Everything not listed here is `unknown`: a
// write that timed out or lost its connection may have been committed, and a checker that took
// it for "not applied" would report phantom violations (or miss real ones).
import * as grpc from '@grpc/grpc-js';

/** A failed call's outcome: `failed` only when the error proves it had no effect. */
export interface ErrorClass {
  outcome: 'failed' | 'unknown';
  /** `code: details`, for the history. */
  message: string;
}

/** Errors the server raises while validating, before anything is proposed (etcd 3.4). */
const definiteDetails = [
  'etcdserver: too many requests',
  'etcdserver: request is too large',
  'etcdserver: not capable',
  'etcdserver: mvcc: database space exceeded',
  'etcdserver: requested lease not found',
  'etcdserver: key is not provided',
  'etcdserver: too many operations in txn request',
  'etcdserver: duplicate key given in txn request',
];

/**
 * Classifies an error from a unary call or a stream. A request the client never sent (no
 * connection could be established, or the deadline passed while still waiting for one) is
 * `failed`, as are the server's refusals that come before a proposal; the rest is `unknown`.
 */
export function classifyError(err: unknown): ErrorClass {
  if (!isServiceError(err)) {
    return { outcome: 'unknown', message: err instanceof Error ? err.message : String(err) };
  }
  const message = `${grpc.status[err.code] ?? err.code}: ${err.details}`;
  if (neverSent(err)) return { outcome: 'failed', message };
  if (err.code === grpc.status.INVALID_ARGUMENT) return { outcome: 'failed', message };
  if (definiteDetails.some((d) => err.details === d)) return { outcome: 'failed', message };
  return { outcome: 'unknown', message };
}

function neverSent(err: grpc.ServiceError): boolean {
  // grpc-js: the pick of a connection failed, so no stream was ever opened.
  if (err.code === grpc.status.UNAVAILABLE && err.details.startsWith('No connection established')) {
    return true;
  }
  return err.code === grpc.status.DEADLINE_EXCEEDED && err.details.includes('Waiting for LB pick');
}

/** A gRPC error as grpc-js reports it. */
export function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' &&
    typeof (err as Partial<grpc.ServiceError>).details === 'string';
}

/** A short text for any error. */
export function errorText(err: unknown): string {
  if (isServiceError(err)) return `${grpc.status[err.code] ?? err.code}: ${err.details}`;
  return err instanceof Error ? err.message : String(err);
}
