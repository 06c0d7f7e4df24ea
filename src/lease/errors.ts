// Expected failures of lease operations, as values with a code (STYLE §7). Messages are etcd's
// exact strings where etcd has one, because clients match on them; api/grpc maps each code to its
// gRPC status (lease-not-found → NOT_FOUND, lease-exist → FAILED_PRECONDITION, …).

/** The codes a LeaseError can carry. */
export const LeaseErrorCode = {
  /** No lease with this id (or id 0, which names no lease). etcd: ErrLeaseNotFound. */
  leaseNotFound: 'lease-not-found',
  /** A grant for an id that is already granted. etcd: ErrLeaseExist. */
  leaseExist: 'lease-exist',
  /** A grant with a TTL above MAX_LEASE_TTL_SECONDS. etcd: ErrLeaseTTLTooLarge. */
  ttlTooLarge: 'lease-ttl-too-large',
  /** A renew on a member that is not the leader; the server forwards it. etcd: ErrNotPrimary. */
  notPrimary: 'not-primary',
  /**
   * A renew of a lease whose expiry has passed but whose revoke has not been applied yet. etcd
   * waits for the revoke (then answers not found) or a demotion (then not primary); `keepAlive`
   * does that wait. Its message is the not-found one, since that is what the client ends up seeing.
   */
  leaseExpired: 'lease-expired',
} as const;

/** One of LeaseErrorCode's values. */
export type LeaseErrorCode = (typeof LeaseErrorCode)[keyof typeof LeaseErrorCode];

const messages: Record<LeaseErrorCode, string> = {
  'lease-not-found': 'etcdserver: requested lease not found',
  'lease-exist': 'etcdserver: lease already exists',
  'lease-ttl-too-large': 'etcdserver: too large lease TTL',
  'not-primary': 'not a primary lessor',
  'lease-expired': 'etcdserver: requested lease not found',
};

/** An expected failure of a lease operation. `leaseId` names the lease concerned, when one is. */
export class LeaseError extends Error {
  override name = 'LeaseError';
  readonly code: LeaseErrorCode;
  /** The lease the operation was about; 0n when none. */
  readonly leaseId: bigint;

  constructor(code: LeaseErrorCode, leaseId = 0n) {
    super(messages[code]);
    this.code = code;
    this.leaseId = leaseId;
  }
}

/** True when `error` is a LeaseError, with the given code when one is given. */
export function isLeaseError(error: unknown, code?: LeaseErrorCode): error is LeaseError {
  return error instanceof LeaseError && (code === undefined || error.code === code);
}
