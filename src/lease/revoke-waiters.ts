// Keep-alives waiting on an expired lease. etcd's Renew blocks until the lease's revoke is applied
// (the client then hears "not found") or the lessor is demoted (the client retries on the new
// leader). Settled synchronously from the lessor's own calls: no timers.

/** How a wait on an expired lease ended. */
export type SettleOutcome = 'revoked' | 'demoted';

type Settle = (outcome: SettleOutcome) => void;

/** The waiters per lease id. */
export class RevokeWaiters {
  readonly #waiters = new Map<bigint, Set<Settle>>();

  /** Resolves when `id` is settled; rejects with the signal's reason when it aborts first. */
  wait(id: bigint, signal?: AbortSignal): Promise<SettleOutcome> {
    return new Promise<SettleOutcome>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        this.#remove(id, settle);
        reject(signal?.reason);
      };
      const settle: Settle = (outcome) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let set = this.#waiters.get(id);
      if (set === undefined) this.#waiters.set(id, (set = new Set()));
      set.add(settle);
    });
  }

  /** Settles every wait on `id`. */
  settle(id: bigint, outcome: SettleOutcome): void {
    const set = this.#waiters.get(id);
    if (set === undefined) return;
    this.#waiters.delete(id);
    for (const settle of set) settle(outcome);
  }

  /** Settles every wait. */
  settleAll(outcome: SettleOutcome): void {
    for (const id of [...this.#waiters.keys()]) this.settle(id, outcome);
  }

  /** Settles the waits on ids that `leases` no longer holds. */
  settleMissing(leases: ReadonlyMap<bigint, unknown>, outcome: SettleOutcome): void {
    for (const id of [...this.#waiters.keys()]) {
      if (!leases.has(id)) this.settle(id, outcome);
    }
  }

  /** How many waits are pending; for tests. */
  get size(): number {
    let n = 0;
    for (const set of this.#waiters.values()) n += set.size;
    return n;
  }

  #remove(id: bigint, settle: Settle): void {
    const set = this.#waiters.get(id);
    if (set === undefined) return;
    set.delete(settle);
    if (set.size === 0) this.#waiters.delete(id);
  }
}
