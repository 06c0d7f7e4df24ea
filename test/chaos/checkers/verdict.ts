// What a checker answers: a result, a one-line summary and, on a violation, each violation with
// the smallest window of history that shows it.

/** `inconclusive`: the checker could not decide (e.g. the linearizability search ran out of
 * budget); it is not a violation, but a run that ends so is not a clean run either. */
export type CheckerResult = 'ok' | 'violation' | 'inconclusive';

/** One anomaly. */
export interface Violation {
  /** A short name: `lost-write`, `stale-read`, `watch-gap`, `lease-outlived`… */
  kind: string;
  message: string;
  /** The operations (or events) that show it, one line each. */
  window: string[];
  /** The time span of the window on the run's clock, in ms. */
  fromMs?: number;
  toMs?: number;
}

/** A checker's verdict. */
export interface Verdict {
  checker: string;
  result: CheckerResult;
  summary: string;
  violations: Violation[];
}

/** How many violations of each kind a verdict keeps in full (all are counted in the summary). */
export const VIOLATIONS_KEPT_PER_KIND = 3;

/** Builds a verdict from violations found (and an optional inconclusive reason). */
export function verdictOf(
  checker: string,
  okSummary: string,
  violations: Violation[],
  inconclusive?: string,
): Verdict {
  if (violations.length > 0) {
    const kinds = new Map<string, number>();
    for (const v of violations) kinds.set(v.kind, (kinds.get(v.kind) ?? 0) + 1);
    const list = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
    return {
      checker,
      result: 'violation',
      summary: `${violations.length} violation(s): ${list}`,
      violations: firstOfEachKind(violations),
    };
  }
  if (inconclusive !== undefined) {
    return { checker, result: 'inconclusive', summary: inconclusive, violations: [] };
  }
  return { checker, result: 'ok', summary: okSummary, violations: [] };
}

/** The first few violations of each kind, in their original order. */
function firstOfEachKind(violations: Violation[]): Violation[] {
  const seen = new Map<string, number>();
  return violations.filter((v) => {
    const n = (seen.get(v.kind) ?? 0) + 1;
    seen.set(v.kind, n);
    return n <= VIOLATIONS_KEPT_PER_KIND;
  });
}
