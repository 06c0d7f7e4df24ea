// The lease room's public API: the Lessor, its ports (KeyDeleter, LeaseStore) and errors.
// Other rooms import only this file. The lessor never proposes by itself: the server polls
// expiredLeases()/dueCheckpoints() on a timer and turns them into Raft proposals.
export { Lessor } from './lessor.ts';
export type { LessorOptions, TimeToLive } from './lessor.ts';
export type { Lease } from './lease.ts';
export { NO_LEASE } from './lease.ts';
export type { LeaseCheckpoint } from './checkpointer.ts';
export type { KeyDeleter, LeaseRecord, LeaseStore } from './ports.ts';
export { MemoryLeaseStore } from './ports.ts';
export { LeaseError, LeaseErrorCode, isLeaseError } from './errors.ts';
export {
  EXPIRED_LEASE_RETRY_INTERVAL_MS,
  EXPIRY_POLL_INTERVAL_MS,
  LEASE_CHECKPOINT_BATCH_MAX,
  LEASE_CHECKPOINT_INTERVAL_MS,
  LEASE_REVOKE_RATE_PER_SECOND,
  MAX_LEASE_TTL_SECONDS,
  minLeaseTtlSeconds,
} from './config.ts';
export type { RaftTiming } from './config.ts';
export { SystemClock } from './system-clock.ts';
export type { Clock } from '../util/clock.ts';
