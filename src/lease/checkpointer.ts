// The leader's lease checkpoint schedule (etcd --experimental-enable-lease-checkpoint, off by
// default): leases whose countdown is longer than the interval get their remaining TTL proposed
// every interval, so a new leader restarts them from there instead of from the full TTL.
// Invariant: only leases that exist are queued; the lessor forgets revoked ones.
import { LeaseQueue } from './lease-queue.ts';
import type { LeaseState } from './lease.ts';
import { countdownSeconds } from './lease.ts';

/** One entry of a LeaseCheckpoint proposal: set lease `id`'s remaining TTL (0 clears it). */
export interface LeaseCheckpoint {
  readonly id: bigint;
  readonly remainingTtlSeconds: number;
}

/** When each lease is next due for a checkpoint, plus clears requested by keep-alives. */
export class Checkpointer {
  readonly #intervalMs: number;
  readonly #queue = new LeaseQueue();
  /** Leases renewed while a checkpoint was set: their stale remaining TTL must be cleared. */
  readonly #clears = new Set<bigint>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Schedules `state`'s next checkpoint an interval from now, if its countdown outlasts one. */
  schedule(state: LeaseState, nowMs: number): void {
    if (countdownSeconds(state) * 1000 > this.#intervalMs) {
      this.#queue.set(state.id, nowMs + this.#intervalMs);
    }
  }

  /** Asks for a clearing checkpoint (remaining TTL 0) of `id` in the next batch. */
  clearLater(id: bigint): void {
    this.#clears.add(id);
  }

  /** Drops everything about `id` (it was revoked). */
  forget(id: bigint): void {
    this.#queue.delete(id);
    this.#clears.delete(id);
  }

  /** Drops everything (demotion). */
  clear(): void {
    this.#queue.clear();
    this.#clears.clear();
  }

  /** Up to `limit` checkpoints due at `nowMs`: requested clears first, then scheduled ones. */
  due(leases: ReadonlyMap<bigint, LeaseState>, nowMs: number, limit: number): LeaseCheckpoint[] {
    const due: LeaseCheckpoint[] = [];
    for (const id of this.#clears) {
      if (due.length >= limit) return due;
      this.#clears.delete(id);
      if (leases.has(id)) due.push({ id, remainingTtlSeconds: 0 });
    }
    while (due.length < limit) {
      const next = this.#queue.peek();
      if (next === undefined || next.timeMs > nowMs) break;
      this.#queue.pop();
      const state = leases.get(next.id);
      if (state === undefined || state.expiryMs <= nowMs) continue;
      const remainingMs = state.expiryMs - nowMs;
      // Rescheduled here too, not only when the checkpoint applies: the proposal may be lost, and
      // a lease skipped below (renewed just now) must stay on the schedule. (etcd drops both.)
      if (remainingMs > this.#intervalMs) this.#queue.set(state.id, nowMs + this.#intervalMs);
      const remainingTtlSeconds = Math.ceil(remainingMs / 1000);
      if (remainingTtlSeconds >= state.ttlSeconds) continue;
      due.push({ id: state.id, remainingTtlSeconds });
    }
    return due;
  }
}
