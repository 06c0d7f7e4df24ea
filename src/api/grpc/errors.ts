// The one table from internal failures to etcd's gRPC status codes and exact messages (clients,
// etcdctl and etcd's own client library match on these strings). No stack trace crosses the wire.
import { GrpcError, GrpcStatus } from './server/status.ts';

const S = GrpcStatus;

/** etcd's server-side errors: [gRPC code, message]. */
export const EtcdErrors = {
  emptyKey: [S.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
  keyNotFound: [S.INVALID_ARGUMENT, 'etcdserver: key not found'],
  valueProvided: [S.INVALID_ARGUMENT, 'etcdserver: value is provided'],
  leaseProvided: [S.INVALID_ARGUMENT, 'etcdserver: lease is provided'],
  ttlZero: [S.INVALID_ARGUMENT, 'etcdserver: ttl is 0'],
  tooManyOps: [S.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'],
  duplicateKey: [S.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
  compacted: [S.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
  futureRev: [S.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
  noSpace: [S.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'],
  leaseNotFound: [S.NOT_FOUND, 'etcdserver: requested lease not found'],
  leaseExist: [S.FAILED_PRECONDITION, 'etcdserver: lease already exists'],
  leaseTtlTooLarge: [S.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],
  memberExist: [S.FAILED_PRECONDITION, 'etcdserver: member ID already exist'],
  peerUrlExist: [S.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'],
  memberNotEnoughStarted: [S.FAILED_PRECONDITION, 'etcdserver: re-configuration failed due to not enough started members'],
  memberBadUrls: [S.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'],
  memberNotFound: [S.NOT_FOUND, 'etcdserver: member not found'],
  memberNotLearner: [S.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'],
  learnerNotReady: [S.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member which is in sync with leader'],
  tooManyLearners: [S.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'],
  requestTooLarge: [S.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  tooManyRequests: [S.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'],
  rootUserNotExist: [S.FAILED_PRECONDITION, 'etcdserver: root user does not exist'],
  rootRoleNotExist: [S.FAILED_PRECONDITION, 'etcdserver: root user does not have root role'],
  userAlreadyExist: [S.FAILED_PRECONDITION, 'etcdserver: user name already exists'],
  userEmpty: [S.INVALID_ARGUMENT, 'etcdserver: user name is empty'],
  userNotFound: [S.FAILED_PRECONDITION, 'etcdserver: user name not found'],
  roleAlreadyExist: [S.FAILED_PRECONDITION, 'etcdserver: role name already exists'],
  roleNotFound: [S.FAILED_PRECONDITION, 'etcdserver: role name not found'],
  roleEmpty: [S.INVALID_ARGUMENT, 'etcdserver: role name is empty'],
  authFailed: [S.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'],
  permissionDenied: [S.PERMISSION_DENIED, 'etcdserver: permission denied'],
  roleNotGranted: [S.FAILED_PRECONDITION, 'etcdserver: role is not granted to the user'],
  permissionNotGranted: [S.FAILED_PRECONDITION, 'etcdserver: permission is not granted to the role'],
  authNotEnabled: [S.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'],
  invalidAuthToken: [S.UNAUTHENTICATED, 'etcdserver: invalid auth token'],
  invalidAuthMgmt: [S.INVALID_ARGUMENT, 'etcdserver: invalid auth management'],
  noLeader: [S.UNAVAILABLE, 'etcdserver: no leader'],
  notLeader: [S.FAILED_PRECONDITION, 'etcdserver: not leader'],
  leaderChanged: [S.UNAVAILABLE, 'etcdserver: leader changed'],
  notCapable: [S.UNAVAILABLE, 'etcdserver: not capable'],
  stopped: [S.UNAVAILABLE, 'etcdserver: server stopped'],
  timeout: [S.UNAVAILABLE, 'etcdserver: request timed out'],
  timeoutDueToLeaderFail: [S.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure'],
  timeoutDueToConnectionLost: [S.UNAVAILABLE, 'etcdserver: request timed out, possibly due to connection lost'],
  unhealthy: [S.UNAVAILABLE, 'etcdserver: unhealthy cluster'],
  corrupt: [S.DATA_LOSS, 'etcdserver: corrupt cluster'],
  notSupportedForLearner: [S.UNAVAILABLE, 'etcdserver: rpc not supported for learner'],
  badLeaderTransferee: [S.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'],
  leaderTransferTimeout: [S.UNAVAILABLE, 'etcdserver: request timed out, leader transfer took too long'],
} as const satisfies Record<string, readonly [GrpcStatus, string]>;

/** The name of one of etcd's errors. */
export type EtcdErrorName = keyof typeof EtcdErrors;

/** The GrpcError a handler throws for one of etcd's errors. */
export function etcdError(name: EtcdErrorName): GrpcError {
  const [code, message] = EtcdErrors[name];
  return new GrpcError(code, message);
}

const byMessage = new Map<string, EtcdErrorName>(
  (Object.keys(EtcdErrors) as EtcdErrorName[]).map((name) => [EtcdErrors[name][1], name]),
);

/** Reads the table backwards (for the client library): the error name for a status message. */
export function etcdErrorByMessage(message: string): EtcdErrorName | undefined {
  return byMessage.get(message);
}

/** Member error codes whose etcd error has another name; the rest are named as etcd's. */
const memberCodes: Record<string, EtcdErrorName> = {
  'no-leader': 'noLeader',
  dropped: 'timeout',
  'too-many-requests': 'tooManyRequests',
  'request-too-large': 'requestTooLarge',
  removed: 'stopped',
};

/**
 * Maps a failure from the member to what the client sees. Already-mapped GrpcErrors pass
 * through; a cancelled call becomes CANCELLED; anything unexpected becomes UNKNOWN with a short
 * message (never a stack).
 */
export function toGrpcError(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === 'cancelled') return new GrpcError(GrpcStatus.CANCELLED, 'context canceled');
    const name = memberCodes[code] ?? (Object.hasOwn(EtcdErrors, code) ? (code as EtcdErrorName) : undefined);
    if (name !== undefined) return etcdError(name);
  }
  return new GrpcError(GrpcStatus.UNKNOWN, (err as Error).message ?? String(err));
}
