// Invariant checks. A broken invariant is a bug: the member stops rather than corrupting data.
// Pure (no I/O), so the Raft core may use it.

/** An invariant that must never fail was found broken. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

/** Throws an InvariantError when `condition` is false. The message is built lazily when a function. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new InvariantError(typeof message === 'function' ? message() : message);
  }
}

/** Marks a branch that the type system proves unreachable. */
export function unreachable(value: never, what = 'value'): never {
  throw new InvariantError(`unreachable: unexpected ${what} ${JSON.stringify(value)}`);
}
