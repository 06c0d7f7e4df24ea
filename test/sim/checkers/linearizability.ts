// Linearizability checker for client histories, after Wing & Gong with Lowe's just-in-time
// linearization (as in Porcupine): a depth-first search over call/return entries that memoizes
// (linearized set, model state) and backtracks iteratively, run per partition
// (P-compositionality). Verdicts are exact: 'illegal' means no linearization exists, and a
// search that runs out of budget answers 'unknown', never a guess.
import assert from 'node:assert';
import { formatIllegal, type IllegalDetails } from './linearizability-report.ts';
import { searchPartition, type Budget } from './linearizability-search.ts';

export type { IllegalDetails, WindowEntry } from './linearizability-report.ts';

/**
 * One client operation. `call` and `return` are timestamps on any monotonic scale; an operation
 * whose outcome is unknown (timed out, connection lost) has `return = Infinity` and
 * `output = undefined`: it may have taken effect at any moment after its call, or never.
 */
export interface Operation<I, O> {
  clientId: number;
  input: I;
  call: number;
  return: number;
  output: O | undefined;
}

/**
 * A sequential specification. States are treated as immutable values: `step` returns a new
 * state and must not change the one it is given.
 */
export interface Model<S, I, O> {
  /** The state before any operation. */
  init(): S;
  /** Applies `input` to `state`; `ok` says whether `output` is what the model allows
   * (`output` undefined means the outcome is unknown, and any outcome is accepted). */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /** Splits a history into independent parts (for a key-value store: one per key). */
  partition?(history: Operation<I, O>[]): Operation<I, O>[][];
  /** Equal keys for equal states; used to memoize the search. */
  stateKey(state: S): string;
  /** A short label for a partition in reports, e.g. `key "a"`. */
  describePartition?(partition: Operation<I, O>[]): string;
  describeOperation?(input: I, output: O | undefined): string;
  describeState?(state: S): string;
}

/** `unknown` means the search ran out of time or steps before reaching a verdict. */
export type CheckResult = 'ok' | 'illegal' | 'unknown';

/** Which partition exhausted the budget, for an `unknown` result. */
export interface BudgetDetails {
  partitionIndex: number;
  partitionLabel: string;
  operationCount: number;
  reason: 'timeout' | 'steps';
}

/** The outcome of a check; `describe()` renders it for a test failure message. */
export interface CheckReport<I, O> {
  result: CheckResult;
  operationCount: number;
  partitionCount: number;
  /** Present for `illegal` (the first illegal partition) and for `unknown`. */
  details?: IllegalDetails<I, O> | BudgetDetails;
  describe(): string;
}

/** Limits on a check. Steps make a budget deterministic (the simulator replays from a seed). */
export interface CheckOptions {
  /** Wall-clock budget for the whole history, in milliseconds; unlimited by default. */
  timeoutMs?: number;
  /** Budget in search steps (one step = one entry examined), for the whole history. */
  stepsMax?: number;
}

/**
 * Decides whether `history` is linearizable with respect to `model`. Partitions are checked one
 * at a time, smallest first, sharing the budget; an illegal partition decides the result even
 * if another one ran out of budget.
 * NB: an operation that returns at the same timestamp another one is called counts as
 * overlapping it (the permissive reading, so a coarse clock cannot cause a false 'illegal').
 * States must be immutable values: the search keeps and revisits them.
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  history: Operation<I, O>[],
  options: CheckOptions = {},
): CheckReport<I, O> {
  for (const op of history) validateOperation(op);
  const partitions = model.partition ? model.partition(history) : [history];
  const budget: Budget = {
    deadlineMs: options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs,
    stepsLeft: options.stepsMax ?? Infinity,
  };
  const historyIndex = new Map<Operation<I, O>, number>();
  history.forEach((op, i) => historyIndex.set(op, i));
  const base = { operationCount: history.length, partitionCount: partitions.length };

  // Smallest partitions first: a budget spent on one huge partition should not keep a small
  // illegal one from being found.
  const order = partitions.map((_, i) => i);
  order.sort((a, b) => partitions[a]!.length - partitions[b]!.length);
  let exhausted: BudgetDetails | undefined;
  for (const partitionIndex of order) {
    const partition = partitions[partitionIndex]!;
    const label = model.describePartition?.(partition) ?? `partition ${partitionIndex}`;
    const search = searchPartition(model, partition, budget);
    if (search.kind === 'illegal') {
      const details = buildIllegalDetails(model, partition, search, {
        partitionIndex,
        partitionLabel: label,
        historyIndex,
      });
      return { ...base, result: 'illegal', details, describe: () => formatIllegal(details) };
    }
    if (search.kind === 'exhausted' && exhausted === undefined) {
      exhausted = {
        partitionIndex,
        partitionLabel: label,
        operationCount: partition.length,
        reason: search.reason,
      };
    }
  }
  if (exhausted !== undefined) {
    const details = exhausted;
    const describe = (): string =>
      `unknown: the check ran out of ${details.reason === 'timeout' ? 'time' : 'steps'} in ` +
      `${details.partitionLabel} (${details.operationCount} operations); ` +
      `no partition was found illegal`;
    return { ...base, result: 'unknown', details, describe };
  }
  const describe = (): string =>
    `ok: ${history.length} operations in ${partitions.length} partitions are linearizable`;
  return { ...base, result: 'ok', describe };
}

function validateOperation<I, O>(op: Operation<I, O>): void {
  assert(Number.isFinite(op.call), `linearizability: operation call time ${op.call} is not finite`);
  assert(!Number.isNaN(op.return), 'linearizability: operation return time is NaN');
  assert(
    op.call <= op.return,
    `linearizability: operation returns (${op.return}) before its call (${op.call})`,
  );
}

const windowMargin = 4;
const windowOverlapMax = 16;

function buildIllegalDetails<S, I, O>(
  model: Model<S, I, O>,
  partition: Operation<I, O>[],
  search: { longestPrefix: number[]; stateAfterPrefix: S },
  where: {
    partitionIndex: number;
    partitionLabel: string;
    historyIndex: Map<Operation<I, O>, number>;
  },
): IllegalDetails<I, O> {
  const positionInPrefix = new Map<number, number>();
  search.longestPrefix.forEach((op, position) => positionInPrefix.set(op, position));
  // The operation that forced the search back from its deepest point: the earliest return
  // among the operations the prefix leaves out.
  let blocked = -1;
  partition.forEach((op, i) => {
    if (positionInPrefix.has(i) || op.return === Infinity && op.output === undefined) return;
    if (blocked < 0 || op.return < partition[blocked]!.return) blocked = i;
  });
  assert(blocked >= 0, 'linearizability: illegal partition without an unlinearized operation');
  const blockedOp = partition[blocked]!;

  const byCall = partition.map((_, i) => i).sort((a, b) => partition[a]!.call - partition[b]!.call);
  const at = byCall.indexOf(blocked);
  const overlapping = byCall.filter((i) => {
    const op = partition[i]!;
    return i !== blocked && op.call <= blockedOp.return && op.return >= blockedOp.call;
  });
  const windowOps = new Set<number>(overlapping.slice(0, windowOverlapMax));
  for (const i of byCall.slice(Math.max(0, at - windowMargin), at + windowMargin + 1)) {
    windowOps.add(i);
  }
  windowOps.add(blocked);

  const describeOp = (i: number): string =>
    describeOperation(model, partition[i]!, where.historyIndex.get(partition[i]!) ?? i);
  const describeState = (s: S): string => model.describeState?.(s) ?? model.stateKey(s);
  const window = byCall
    .filter((i) => windowOps.has(i))
    .map((i) => ({
      operation: partition[i]!,
      text: describeOp(i),
      prefixPosition: positionInPrefix.get(i) ?? null,
    }));

  // Replay the prefix so the report can show the state each of its last operations left.
  const states: S[] = [];
  let state = model.init();
  for (const i of search.longestPrefix) {
    const op = partition[i]!;
    state = model.step(state, op.input, op.output).state;
    states.push(state);
  }
  const prefixTail = search.longestPrefix.slice(-8).map((i, k, tail) => ({
    text: describeOp(i),
    stateAfter: describeState(states[states.length - tail.length + k]!),
  }));

  return {
    partitionIndex: where.partitionIndex,
    partitionLabel: where.partitionLabel,
    partition,
    longestPrefix: search.longestPrefix.map((i) => partition[i]!),
    stateAfterPrefix: describeState(search.stateAfterPrefix),
    prefixTail,
    firstUnlinearizable: blockedOp,
    firstUnlinearizableText: describeOp(blocked),
    window,
  };
}

/** Formats an operation for reports: `#12 client 3 [100, 140] get("a") -> "x"`. */
export function describeOperation<S, I, O>(
  model: Model<S, I, O>,
  op: Operation<I, O>,
  index: number,
): string {
  const body = model.describeOperation?.(op.input, op.output) ??
    `${JSON.stringify(op.input)} -> ${op.output === undefined ? '?' : JSON.stringify(op.output)}`;
  const end = op.return === Infinity ? '∞)' : `${op.return}]`;
  return `#${index} client ${op.clientId} [${op.call}, ${end} ${body}`;
}
