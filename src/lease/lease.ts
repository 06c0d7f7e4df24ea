// One lease's state as the lessor keeps it, the read-only view it hands out, and the pure helpers
// around them. Invariant: `expiryMs` is Infinity exactly when the lessor is not primary (expiry is
// leader-local time, never replicated); `remainingTtlSeconds` is replicated (set by checkpoints).

/** A read-only view of a lease at the moment it was taken. */
export interface Lease {
  readonly id: bigint;
  /** The granted TTL in seconds, after the minimum TTL was applied. */
  readonly ttlSeconds: number;
  /** The last checkpointed remaining TTL in seconds; 0 when none. */
  readonly remainingTtlSeconds: number;
  /** When the lease expires on this member's clock (ms); Infinity on a non-primary lessor. */
  readonly expiryMs: number;
  /** How many keys are attached to the lease. */
  readonly keyCount: number;
}

/** The id that names no lease (etcd: NoLease). */
export const NO_LEASE = 0n;

/** The lessor's mutable state of one lease. */
export interface LeaseState {
  readonly id: bigint;
  readonly ttlSeconds: number;
  remainingTtlSeconds: number;
  expiryMs: number;
  /** Attached keys, by their binary string (see keyString). */
  readonly keys: Map<string, Uint8Array>;
}

/** A read-only copy of `state`. */
export function leaseView(state: LeaseState): Lease {
  return {
    id: state.id,
    ttlSeconds: state.ttlSeconds,
    remainingTtlSeconds: state.remainingTtlSeconds,
    expiryMs: state.expiryMs,
    keyCount: state.keys.size,
  };
}

/**
 * The TTL a (re)started expiry countdown uses, in seconds: the checkpointed remaining TTL when one
 * was applied, so a leader change does not hand a long lease its full TTL again; else the TTL.
 */
export function countdownSeconds(state: LeaseState): number {
  return state.remainingTtlSeconds > 0 ? state.remainingTtlSeconds : state.ttlSeconds;
}

/**
 * A key's bytes as a string with one char per byte: a Map key whose `<` order is bytewise order.
 */
export function keyString(key: Uint8Array): string {
  let text = '';
  const chunkBytes = 8192;
  for (let start = 0; start < key.length; start += chunkBytes) {
    text += String.fromCharCode(...key.subarray(start, start + chunkBytes));
  }
  return text;
}

/** Compares two keyString values bytewise (for sort). */
export function compareKeyStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Extra delays (ms) that keep a promotion from piling expiries into one second. `remainingMs` is
 * every lease's time to expiry, ascending. Leases are counted in one-second windows; past
 * `targetPerSecond` in a window, each further lease is pushed back in proportion to the excess, so
 * the revoke rate is never swamped. etcd: the tail of lessor.Promote.
 */
export function spreadDelaysMs(remainingMs: readonly number[], targetPerSecond: number): number[] {
  const delays = remainingMs.map(() => 0);
  const first = remainingMs[0];
  if (first === undefined) return delays;
  let windowStartMs = first;
  let windowEndMs = first + 1000;
  let count = 0;
  remainingMs.forEach((remaining, i) => {
    if (remaining > windowEndMs) {
      windowStartMs = remaining;
      windowEndMs = remaining + 1000;
      count = 1;
      return;
    }
    count += 1;
    if (count <= targetPerSecond) return;
    // A lease already some way into the window needs less extra delay than one at its start.
    const delay = (1000 * count) / targetPerSecond - (remaining - windowStartMs);
    windowEndMs = windowStartMs + delay;
    delays[i] = delay;
  });
  return delays;
}
