// The lessor's limits and defaults, each with its unit and what it trades. Values are etcd's
// (server/lease/lessor.go) unless a comment says otherwise.

/** The largest TTL a grant may ask for, in seconds. etcd: MaxLeaseTTL. */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

/**
 * How many leases the leader revokes per second at most. Expiries past this rate wait for the next
 * poll; a promotion spreads expiries so that no one second holds more than three quarters of it.
 */
export const LEASE_REVOKE_RATE_PER_SECOND = 1000;

/** How often the server is expected to poll `expiredLeases()`, in ms (etcd's run loop). */
export const EXPIRY_POLL_INTERVAL_MS = 500;

/**
 * How long an expired lease that was handed out for revoking waits before it is handed out again,
 * in ms: the revoke proposal may have been lost (a leader change, a dropped proposal).
 */
export const EXPIRED_LEASE_RETRY_INTERVAL_MS = 3000;

/** How often a long-lived lease's remaining TTL is checkpointed, in ms (when enabled). */
export const LEASE_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;

/** The most checkpoints one call of `dueCheckpoints()` returns (one Raft entry's worth). */
export const LEASE_CHECKPOINT_BATCH_MAX = 1000;

/** Inputs of the minimum lease TTL: the Raft timing of the member. */
export interface RaftTiming {
  /** Heartbeat ticks in one election timeout (etcd: --election-timeout / --heartbeat-interval). */
  readonly electionTicks: number;
  /** One tick, in ms (etcd: --heartbeat-interval). */
  readonly heartbeatIntervalMs: number;
}

/**
 * The shortest TTL a lease may have, in seconds: one and a half election timeouts, so that a lease
 * cannot expire just because a leader election is in progress. etcd computes it with integer
 * ticks, `(3 * electionTicks) / 2`, then rounds the duration up to whole seconds.
 */
export function minLeaseTtlSeconds(timing: RaftTiming): number {
  const ticks = Math.floor((3 * timing.electionTicks) / 2);
  return Math.ceil((ticks * timing.heartbeatIntervalMs) / 1000);
}
