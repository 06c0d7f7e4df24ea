// The error a checker throws when a run breaks a property. The simulator catches it, stamps it
// with the seed and the tick and attaches the trace of the events that led to it.

/** The properties the simulator checks; each violation names one. */
export type ViolationKind =
  | 'one-leader-per-term'
  | 'vote-once-per-term'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'commit-monotonic'
  | 'term-monotonic'
  | 'apply-order'
  | 'acknowledged-write-lost'
  | 'core-invariant'
  | 'core-crash'
  | 'disk'
  | 'liveness'
  | 'linearizability';

/** A property broken by a run. */
export class Violation extends Error {
  override name = 'Violation';
  constructor(readonly kind: ViolationKind, message: string) {
    super(`${kind}: ${message}`);
  }
}

/** Throws a Violation of `kind` when `condition` is false; the message is built only then. */
export function check(condition: boolean, kind: ViolationKind, message: () => string): asserts condition {
  if (!condition) throw new Violation(kind, message());
}
