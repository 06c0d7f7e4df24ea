// The member's expected failures: one error class with a code, mapped once to etcd's gRPC
// errors by api/grpc/errors.ts (STYLE §7).

/** Why a member could not serve a request. */
export const MemberErrorCode = {
  noLeader: 'no-leader',
  timeout: 'timeout',
  stopped: 'stopped',
  cancelled: 'cancelled',
  dropped: 'dropped',
  tooManyRequests: 'too-many-requests',
  requestTooLarge: 'request-too-large',
  keyNotFound: 'keyNotFound',
  leaseNotFound: 'leaseNotFound',
  leaseExist: 'leaseExist',
  leaseTtlTooLarge: 'leaseTtlTooLarge',
  compacted: 'compacted',
  futureRev: 'futureRev',
  noSpace: 'noSpace',
  unsupported: 'unsupported',
  badConfig: 'bad-config',
  removed: 'removed',
  notLeader: 'notLeader',
  badLeaderTransferee: 'badLeaderTransferee',
  leaderTransferTimeout: 'leaderTransferTimeout',
  memberNotEnoughStarted: 'memberNotEnoughStarted',
  unhealthy: 'unhealthy',
  peerUrlExist: 'peerUrlExist',
  memberExist: 'memberExist',
  memberNotFound: 'memberNotFound',
  memberNotLearner: 'memberNotLearner',
  learnerNotReady: 'learnerNotReady',
  tooManyLearners: 'tooManyLearners',
  memberBadUrls: 'memberBadUrls',
  notSupportedForLearner: 'notSupportedForLearner',
} as const;
export type MemberErrorCode = (typeof MemberErrorCode)[keyof typeof MemberErrorCode];

/** An expected failure of a member operation. */
export class MemberError extends Error {
  override name = 'MemberError';
  readonly code: MemberErrorCode;

  constructor(code: MemberErrorCode, message?: string) {
    super(message ?? `member: ${code}`);
    this.code = code;
  }
}
