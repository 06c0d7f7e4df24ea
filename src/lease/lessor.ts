// The lessor: every lease of the member, the keys attached to each, and — on the leader only —
// when each expires. Replicated state (grants, revokes, checkpoints, attachments) changes only
// through the apply of committed entries; expiry is leader-local time read from the Clock, and
// the server polls `expiredLeases()` / `dueCheckpoints()` and proposes what they return. No timers.
import { assert } from '../util/assert.ts';
import type { Clock } from '../util/clock.ts';
import {
  EXPIRED_LEASE_RETRY_INTERVAL_MS,
  LEASE_CHECKPOINT_BATCH_MAX,
  LEASE_CHECKPOINT_INTERVAL_MS,
  LEASE_REVOKE_RATE_PER_SECOND,
  MAX_LEASE_TTL_SECONDS,
  minLeaseTtlSeconds,
} from './config.ts';
import { LeaseError, LeaseErrorCode } from './errors.ts';
import type { Lease, LeaseState } from './lease.ts';
import {
  NO_LEASE,
  compareKeyStrings,
  countdownSeconds,
  keyString,
  leaseView,
  spreadDelaysMs,
} from './lease.ts';
import { LeaseQueue } from './lease-queue.ts';
import type { KeyDeleter, LeaseStore } from './ports.ts';
import { RevokeWaiters } from './revoke-waiters.ts';
import type { SettleOutcome } from './revoke-waiters.ts';
import { Checkpointer } from './checkpointer.ts';
import type { LeaseCheckpoint } from './checkpointer.ts';

/** How a Lessor is built. Only `clock`, `store` and `keyDeleter` are required. */
export interface LessorOptions {
  readonly clock: Clock;
  /** Durable lease records; the lessor loads them at construction (etcd: initAndRecover). */
  readonly store: LeaseStore;
  readonly keyDeleter: KeyDeleter;
  /** Shorter TTLs are raised to this, in seconds. Default: etcd's for 10 ticks of 100 ms (2). */
  readonly minTtlSeconds?: number;
  /** Revokes per second at most; bounds `expiredLeases()` and the promotion spread. */
  readonly revokeRatePerSecond?: number;
  /** How long an expired lease handed out for revoking waits to be handed out again (ms). */
  readonly expiredRetryIntervalMs?: number;
  /** Checkpoint remaining TTLs periodically (etcd --experimental-enable-lease-checkpoint). */
  readonly checkpointEnabled?: boolean;
  /** How often a long lease is checkpointed, in ms (only when checkpointEnabled). */
  readonly checkpointIntervalMs?: number;
}

/** What `timeToLive` reports (etcd's LeaseTimeToLiveResponse). */
export interface TimeToLive {
  readonly id: bigint;
  /**
   * Remaining seconds, truncated as etcd does; -1 once the expiry has passed (the revoke is on its
   * way). On a non-primary, which has no expiry, the countdown a new leader would start from.
   */
  readonly ttlSeconds: number;
  /** The TTL the lease was granted, in seconds. */
  readonly grantedTtlSeconds: number;
  /** The attached keys, bytewise sorted; empty unless asked for. */
  readonly keys: Uint8Array[];
}

/** Owns the leases of one member (etcd: lessor). */
export class Lessor {
  readonly #clock: Clock;
  #store: LeaseStore;
  #keyDeleter: KeyDeleter;
  readonly #minTtlSeconds: number;
  readonly #revokeRatePerSecond: number;
  readonly #expiredRetryIntervalMs: number;
  readonly #leases = new Map<bigint, LeaseState>();
  /** Which lease each attached key belongs to. Invariant: mirrors every LeaseState.keys. */
  readonly #keyLeases = new Map<string, bigint>();
  /** Primary only: every lease by expiry (or by retry time once handed out for revoking). */
  readonly #expiries = new LeaseQueue();
  readonly #checkpointer: Checkpointer | undefined;
  readonly #waiters = new RevokeWaiters();
  #primary = false;
  #closed = false;

  constructor(options: LessorOptions) {
    this.#clock = options.clock;
    this.#store = options.store;
    this.#keyDeleter = options.keyDeleter;
    this.#minTtlSeconds =
      options.minTtlSeconds ?? minLeaseTtlSeconds({ electionTicks: 10, heartbeatIntervalMs: 100 });
    this.#revokeRatePerSecond = options.revokeRatePerSecond ?? LEASE_REVOKE_RATE_PER_SECOND;
    this.#expiredRetryIntervalMs =
      options.expiredRetryIntervalMs ?? EXPIRED_LEASE_RETRY_INTERVAL_MS;
    assert(this.#revokeRatePerSecond >= 2, 'lessor: revokeRatePerSecond must be at least 2');
    if (options.checkpointEnabled === true) {
      const intervalMs = options.checkpointIntervalMs ?? LEASE_CHECKPOINT_INTERVAL_MS;
      this.#checkpointer = new Checkpointer(intervalMs);
    }
    this.#load();
  }

  /** True while this lessor is primary (its member leads): it tracks expiry and renews. */
  get isPrimary(): boolean {
    return this.#primary;
  }

  /** The minimum TTL in seconds that grants are raised to. */
  get minTtlSeconds(): number {
    return this.#minTtlSeconds;
  }

  /**
   * Applies a grant: a lease of `ttlSeconds` (raised to the minimum) under `id`, with no keys.
   * Throws LeaseError lease-not-found for id 0, lease-ttl-too-large, lease-exist.
   */
  grant(id: bigint, ttlSeconds: number): Lease {
    this.#assertOpen();
    assert(Number.isSafeInteger(ttlSeconds), () => `lessor: grant TTL ${ttlSeconds} not integral`);
    if (id === NO_LEASE) throw new LeaseError(LeaseErrorCode.leaseNotFound, id);
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw new LeaseError(LeaseErrorCode.ttlTooLarge, id);
    if (this.#leases.has(id)) throw new LeaseError(LeaseErrorCode.leaseExist, id);
    const state: LeaseState = {
      id,
      ttlSeconds: Math.max(ttlSeconds, this.#minTtlSeconds),
      remainingTtlSeconds: 0,
      expiryMs: Infinity,
      keys: new Map(),
    };
    this.#store.putLease({ id, ttlSeconds: state.ttlSeconds, remainingTtlSeconds: 0 });
    this.#leases.set(id, state);
    if (this.#primary) this.#startCountdown(state, this.#clock.nowMs(), 0);
    return leaseView(state);
  }

  /**
   * Applies a revoke: deletes every attached key through the KeyDeleter in one call (one revision),
   * then the lease record. Throws LeaseError lease-not-found.
   */
  revoke(id: bigint): void {
    this.#assertOpen();
    const state = this.#leases.get(id);
    if (state === undefined) throw new LeaseError(LeaseErrorCode.leaseNotFound, id);
    // Sorted, so every member deletes in the same order and their backend hashes agree.
    const keys = [...state.keys.keys()].sort(compareKeyStrings).map((k) => state.keys.get(k)!);
    if (keys.length > 0) this.#keyDeleter.deleteKeys(keys);
    this.#store.deleteLease(id);
    for (const key of state.keys.keys()) {
      if (this.#keyLeases.get(key) === id) this.#keyLeases.delete(key);
    }
    this.#leases.delete(id);
    this.#expiries.delete(id);
    this.#checkpointer?.forget(id);
    this.#waiters.settle(id, 'revoked');
  }

  /**
   * Applies a checkpoint (etcd LeaseCheckpoint): records the remaining TTL a new leader will count
   * down from; 0 clears it. It does not move this member's own expiry. Unknown ids are ignored.
   */
  checkpoint(id: bigint, remainingTtlSeconds: number): void {
    this.#assertOpen();
    const state = this.#leases.get(id);
    if (state === undefined) return;
    state.remainingTtlSeconds = remainingTtlSeconds;
    this.#store.putLease({ id, ttlSeconds: state.ttlSeconds, remainingTtlSeconds });
    if (this.#primary) this.#checkpointer?.schedule(state, this.#clock.nowMs());
  }

  /**
   * Renews a lease (a keep-alive; leader-local, not replicated): its expiry becomes now + TTL.
   * Returns the TTL in seconds. Throws LeaseError not-primary, lease-not-found, or lease-expired
   * when the expiry has passed but the revoke has not been applied (see keepAlive).
   */
  renew(id: bigint): number {
    if (!this.#primary) throw new LeaseError(LeaseErrorCode.notPrimary, id);
    const state = this.#leases.get(id);
    if (state === undefined) throw new LeaseError(LeaseErrorCode.leaseNotFound, id);
    const nowMs = this.#clock.nowMs();
    if (state.expiryMs <= nowMs) throw new LeaseError(LeaseErrorCode.leaseExpired, id);
    // A stale checkpoint would make a new leader expire the lease early: propose clearing it.
    if (state.remainingTtlSeconds > 0) this.#checkpointer?.clearLater(id);
    // NB: etcd restarts the countdown from the (still set) checkpointed TTL here; the full TTL is
    // what a keep-alive promises, and what etcd's own tests expect.
    state.expiryMs = nowMs + state.ttlSeconds * 1000;
    this.#expiries.set(id, state.expiryMs);
    return state.ttlSeconds;
  }

  /**
   * Renews like etcd's Renew: when the lease has expired but is not revoked yet, waits until it is
   * (then lease-not-found) or until this lessor is demoted or closed (then not-primary).
   */
  async keepAlive(id: bigint, options: { signal?: AbortSignal } = {}): Promise<number> {
    try {
      return this.renew(id);
    } catch (error) {
      if (!(error instanceof LeaseError) || error.code !== LeaseErrorCode.leaseExpired) throw error;
    }
    const outcome: SettleOutcome = await this.#waiters.wait(id, options.signal);
    const code = outcome === 'revoked' ? LeaseErrorCode.leaseNotFound : LeaseErrorCode.notPrimary;
    throw new LeaseError(code, id);
  }

  /** The lease `id`, or undefined. */
  lookup(id: bigint): Lease | undefined {
    const state = this.#leases.get(id);
    return state === undefined ? undefined : leaseView(state);
  }

  /** Every lease, sorted by id. */
  leases(): Lease[] {
    return [...this.#leases.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(leaseView);
  }

  /** The lease `key` is attached to, or NO_LEASE (0n). */
  leaseOf(key: Uint8Array): bigint {
    return this.#keyLeases.get(keyString(key)) ?? NO_LEASE;
  }

  /**
   * Attaches keys to lease `id` (applied with a put that carries the lease). A key attached to
   * another lease moves: a key has at most one lease. Throws LeaseError lease-not-found.
   */
  attach(id: bigint, keys: readonly Uint8Array[]): void {
    this.#assertOpen();
    const state = this.#leases.get(id);
    if (state === undefined) throw new LeaseError(LeaseErrorCode.leaseNotFound, id);
    for (const key of keys) {
      const k = keyString(key);
      const previous = this.#keyLeases.get(k);
      if (previous !== undefined && previous !== id) this.#leases.get(previous)?.keys.delete(k);
      state.keys.set(k, key.slice());
      this.#keyLeases.set(k, id);
    }
  }

  /**
   * Detaches keys from lease `id` (applied when a key is deleted, or overwritten without this
   * lease). Keys not attached to it are ignored. Throws LeaseError lease-not-found.
   */
  detach(id: bigint, keys: readonly Uint8Array[]): void {
    this.#assertOpen();
    const state = this.#leases.get(id);
    if (state === undefined) throw new LeaseError(LeaseErrorCode.leaseNotFound, id);
    for (const key of keys) {
      const k = keyString(key);
      if (!state.keys.delete(k)) continue;
      if (this.#keyLeases.get(k) === id) this.#keyLeases.delete(k);
    }
  }

  /** A lease's remaining and granted TTL, and its keys when asked. Throws lease-not-found. */
  timeToLive(id: bigint, options: { keys?: boolean } = {}): TimeToLive {
    const state = this.#leases.get(id);
    if (state === undefined) throw new LeaseError(LeaseErrorCode.leaseNotFound, id);
    let ttlSeconds: number;
    if (state.expiryMs === Infinity) ttlSeconds = countdownSeconds(state);
    else {
      const remainingMs = state.expiryMs - this.#clock.nowMs();
      ttlSeconds = remainingMs <= 0 ? -1 : Math.floor(remainingMs / 1000);
    }
    const keys =
      options.keys === true
        ? [...state.keys.keys()].sort(compareKeyStrings).map((k) => state.keys.get(k)!.slice())
        : [];
    return { id, ttlSeconds, grantedTtlSeconds: state.ttlSeconds, keys };
  }

  /**
   * Makes this lessor primary (its member became leader). Every expiry restarts at now + the
   * lease's countdown + `extendMs` (an election timeout, so no lease expires early because of the
   * election); with many leases, expiries are spread so none swamps the revoke rate.
   */
  promote(extendMs: number): void {
    this.#assertOpen();
    assert(extendMs >= 0, () => `lessor: promote extension ${extendMs} ms is negative`);
    this.#primary = true;
    const nowMs = this.#clock.nowMs();
    for (const state of this.#leases.values()) this.#startCountdown(state, nowMs, extendMs);
    if (this.#leases.size < this.#revokeRatePerSecond) return; // no pile-up possible
    const byExpiry = [...this.#leases.values()].sort(
      (a, b) => a.expiryMs - b.expiryMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    const targetPerSecond = Math.floor((3 * this.#revokeRatePerSecond) / 4);
    const delays = spreadDelaysMs(byExpiry.map((s) => s.expiryMs - nowMs), targetPerSecond);
    byExpiry.forEach((state, i) => {
      const delayMs = delays[i] ?? 0;
      if (delayMs <= 0) return;
      state.expiryMs += delayMs;
      this.#expiries.set(state.id, state.expiryMs);
    });
  }

  /** Makes this lessor a follower's: no expiry (leases live 'forever'), no checkpoints. */
  demote(): void {
    this.#primary = false;
    for (const state of this.#leases.values()) state.expiryMs = Infinity;
    this.#expiries.clear();
    this.#checkpointer?.clear();
    this.#waiters.settleAll('demoted');
  }

  /**
   * Primary only: up to `limit` leases whose expiry has passed, earliest first, for the server to
   * propose revokes. Each one handed out is not handed out again for the retry interval, in case
   * its revoke is lost. The default limit is half the revoke rate: the server polls twice a second.
   */
  expiredLeases(limit = Math.floor(this.#revokeRatePerSecond / 2)): bigint[] {
    if (!this.#primary) return [];
    const nowMs = this.#clock.nowMs();
    const expired: bigint[] = [];
    while (expired.length < limit) {
      const next = this.#expiries.peek();
      if (next === undefined || next.timeMs > nowMs) break;
      const state = this.#leases.get(next.id);
      assert(state !== undefined, () => `lessor: expiry queue holds revoked lease ${next.id}`);
      if (state.expiryMs > nowMs) {
        this.#expiries.set(state.id, state.expiryMs);
        continue;
      }
      this.#expiries.set(state.id, nowMs + this.#expiredRetryIntervalMs);
      expired.push(state.id);
    }
    return expired;
  }

  /**
   * Primary with checkpoints enabled only: up to `limit` checkpoints due now, for the server to
   * propose as one LeaseCheckpoint entry. Clears requested by renewals come first.
   */
  dueCheckpoints(limit = LEASE_CHECKPOINT_BATCH_MAX): LeaseCheckpoint[] {
    if (!this.#primary || this.#checkpointer === undefined) return [];
    return this.#checkpointer.due(this.#leases, this.#clock.nowMs(), limit);
  }

  /**
   * Rebuilds from `store` (after a restart or a snapshot restore): leases come back with their TTL
   * and checkpointed remaining TTL and no keys — the server re-attaches keys from the key space.
   */
  recover(store: LeaseStore, keyDeleter: KeyDeleter = this.#keyDeleter): void {
    this.#assertOpen();
    this.#store = store;
    this.#keyDeleter = keyDeleter;
    this.#load();
    if (this.#primary) {
      const nowMs = this.#clock.nowMs();
      for (const state of this.#leases.values()) this.#startCountdown(state, nowMs, 0);
    }
    // Keep-alives waiting on a lease that is gone hear "not found"; the rest retry.
    this.#waiters.settleMissing(this.#leases, 'revoked');
    this.#waiters.settleAll('demoted');
  }

  /** Stops the lessor: it acts as demoted; later mutations are bugs. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.demote();
    }
    return Promise.resolve();
  }

  /** Checks the lessor's invariants; for tests and the simulator. Throws an InvariantError. */
  checkInvariants(): void {
    this.#expiries.checkInvariants();
    assert(this.#primary || this.#expiries.size === 0, 'lessor: a non-primary tracks expiries');
    for (const state of this.#leases.values()) {
      const queued = this.#expiries.get(state.id);
      assert(this.#primary === (state.expiryMs !== Infinity), () =>
        `lessor: lease ${state.id} expiry ${state.expiryMs} on a primary=${this.#primary}`);
      assert(!this.#primary || queued !== undefined, () => `lessor: lease ${state.id} not queued`);
      for (const key of state.keys.keys()) {
        assert(this.#keyLeases.get(key) === state.id, () => `lessor: key of ${state.id} unmapped`);
      }
    }
    for (const id of this.#keyLeases.values()) {
      assert(this.#leases.has(id), () => `lessor: a key maps to missing lease ${id}`);
    }
  }

  #load(): void {
    this.#leases.clear();
    this.#keyLeases.clear();
    this.#expiries.clear();
    this.#checkpointer?.clear();
    for (const record of this.#store.listLeases()) {
      this.#leases.set(record.id, {
        id: record.id,
        ttlSeconds: Math.max(record.ttlSeconds, this.#minTtlSeconds),
        remainingTtlSeconds: record.remainingTtlSeconds,
        expiryMs: Infinity,
        keys: new Map(),
      });
    }
  }

  #startCountdown(state: LeaseState, nowMs: number, extendMs: number): void {
    state.expiryMs = nowMs + countdownSeconds(state) * 1000 + extendMs;
    this.#expiries.set(state.id, state.expiryMs);
    this.#checkpointer?.schedule(state, nowMs);
  }

  #assertOpen(): void {
    assert(!this.#closed, 'lessor: used after close');
  }
}
