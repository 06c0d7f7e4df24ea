// The wait table: a proposal's caller waits here until the apply loop reaches the entry carrying
// its request id and triggers it with the result. Bounded: a full table refuses new waits.

/** Why a wait ended without a result. */
export class WaitAbortedError extends Error {
  override name = 'WaitAbortedError';
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  cleanup: (() => void) | undefined;
  /** When the wait times out (ms on the caller's clock); Infinity for never. */
  deadlineMs: number;
}

/** A wait that passed its deadline. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/** Pending proposals by request id. */
export class WaitTable {
  readonly #waiters = new Map<bigint, Waiter>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#waiters.size;
  }

  /** True when no more waits fit. */
  full(): boolean {
    return this.#waiters.size >= this.#capacity;
  }

  /**
   * Registers `id` and returns the promise its trigger settles; the signal aborts the wait, and
   * `expire` fails it with WaitTimeoutError once `deadlineMs` has passed. Deadlines are swept in
   * bulk rather than given a timer each: a timer per request costs more than the request.
   */
  register<T>(id: bigint, signal?: AbortSignal, deadlineMs = Infinity): Promise<T> {
    if (this.#waiters.has(id)) throw new Error(`wait: duplicate request id ${id}`);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { resolve: resolve as (v: unknown) => void, reject, cleanup: undefined, deadlineMs };
      if (signal !== undefined) {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = (): void => {
          this.#waiters.delete(id);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#waiters.set(id, waiter);
    });
  }

  /** Whether someone waits for `id` (on this member: the proposal came through here). */
  isWaiting(id: bigint): boolean {
    return this.#waiters.has(id);
  }

  /** Settles the wait for `id` with a result; no-op when nobody waits (another member's proposal). */
  trigger(id: bigint, value: unknown): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    this.#waiters.delete(id);
    waiter.cleanup?.();
    waiter.resolve(value);
  }

  /** Fails the wait for `id`. */
  fail(id: bigint, err: unknown): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    this.#waiters.delete(id);
    waiter.cleanup?.();
    waiter.reject(err);
  }

  /** Fails every wait whose deadline is at or before `nowMs`. */
  expire(nowMs: number): void {
    for (const [id, waiter] of this.#waiters) {
      if (waiter.deadlineMs <= nowMs) this.fail(id, new WaitTimeoutError(`wait: request ${id} timed out`));
    }
  }

  /** Fails every wait (the member is stopping). */
  failAll(err: unknown): void {
    for (const [id] of this.#waiters) this.fail(id, err);
  }
}
