// The search behind the linearizability checker: Lowe's just-in-time linearization over a
// doubly linked list of call/return entries, depth-first, iterative, with a memo of
// (linearized set, model state) pairs already explored. It only ever answers 'ok' or
// 'illegal' when that is exact; a spent budget answers 'exhausted'.
import assert from 'node:assert';
import type { Model, Operation } from './linearizability.ts';

/** What is left of the time and step budget; shared by the partitions of one check. */
export interface Budget {
  deadlineMs: number;
  stepsLeft: number;
}

/** The search's answer for one partition; operations are named by index in it. */
export type SearchOutcome<S> =
  | { kind: 'ok' }
  | { kind: 'exhausted'; reason: 'timeout' | 'steps' }
  | { kind: 'illegal'; longestPrefix: number[]; stateAfterPrefix: S };

/**
 * An entry of the list the search lifts operations out of, sorted by time. Required operations
 * (those that returned, or whose output is known) have a call and a return entry. Optional
 * operations (unknown outcome, no return) have only a call entry: nothing forces them to
 * happen, so they carry no deadline.
 */
interface Entry {
  /** Index of the operation in its partition. */
  op: number;
  kind: 'call' | 'return' | 'optional';
  time: number;
  /** For a call entry, its return entry. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

// NB: at equal times a call sorts before a return, so operations that touch at one instant
// count as overlapping (the permissive reading: a coarse clock cannot cause false 'illegal').
function byTime(a: Entry, b: Entry): number {
  const returns = Number(a.kind === 'return') - Number(b.kind === 'return');
  return a.time - b.time || returns || a.op - b.op;
}

function newEntry(op: number, kind: Entry['kind'], time: number, match?: Entry): Entry {
  return { op, kind, time, match: match ?? null, prev: null, next: null };
}

function buildList<I, O>(ops: Operation<I, O>[], optional: boolean[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, i) => {
    if (optional[i]) {
      entries.push(newEntry(i, 'optional', op.call));
      return;
    }
    const ret = newEntry(i, 'return', op.return);
    entries.push(newEntry(i, 'call', op.call, ret), ret);
  });
  const head = newEntry(-1, 'return', -Infinity);
  let last = head;
  for (const entry of entries.sort(byTime)) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

function unlink(entry: Entry): void {
  entry.prev!.next = entry.next;
  if (entry.next !== null) entry.next.prev = entry.prev;
}

function relink(entry: Entry): void {
  entry.prev!.next = entry;
  if (entry.next !== null) entry.next.prev = entry;
}

/** Removes an operation's entries from the list. */
function lift(call: Entry): void {
  unlink(call);
  if (call.match !== null) unlink(call.match);
}

/** Puts back what `lift` removed, in reverse order. */
function unlift(call: Entry): void {
  if (call.match !== null) relink(call.match);
  relink(call);
}

/** Per-operation random words whose XOR over a set is that set's hash (Zobrist hashing). */
function zobristWords(n: number): Uint32Array {
  const words = new Uint32Array(2 * n);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x = (x + 0x6d2b79f5) >>> 0;
    let z = Math.imul(x ^ (x >>> 15), x | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    words[i] = (z ^ (z >>> 14)) >>> 0;
  }
  return words;
}

/** The set of linearized operations, with an incrementally kept 64-bit hash of it. */
class LinearizedSet {
  readonly bits: Uint32Array;
  #zobrist: Uint32Array;
  #hashLo = 0;
  #hashHi = 0;

  constructor(n: number) {
    this.bits = new Uint32Array((n + 31) >>> 5);
    this.#zobrist = zobristWords(n);
  }

  toggle(i: number): void {
    this.bits[i >>> 5]! ^= 1 << (i & 31);
    this.#hashLo ^= this.#zobrist[2 * i]!;
    this.#hashHi ^= this.#zobrist[2 * i + 1]!;
  }

  hash(): string {
    return `${this.#hashLo.toString(36)}.${this.#hashHi.toString(36)}`;
  }

  equals(other: Uint32Array): boolean {
    for (let i = 0; i < other.length; i++) if (this.bits[i] !== other[i]) return false;
    return true;
  }
}

/** Nodes already explored: (linearized set, state). Hash-keyed, the set compared exactly. */
class Memo {
  #seen = new Map<string, Uint32Array[]>();

  /** Adds the node; false if it was already there. */
  add(set: LinearizedSet, stateKey: string): boolean {
    const key = `${set.hash()}|${stateKey}`;
    const bucket = this.#seen.get(key);
    if (bucket === undefined) {
      this.#seen.set(key, [set.bits.slice()]);
      return true;
    }
    if (bucket.some((bits) => set.equals(bits))) return false;
    bucket.push(set.bits.slice());
    return true;
  }
}

interface Frame<S> {
  call: Entry;
  stateBefore: S;
}

/**
 * True when linearizing `call` (taking `before` to `after`) leads to a node dominated by one the
 * search enumerates anyway, so it may be skipped without losing a linearization. Domination:
 * same required operations done, same state, a subset of the optional ones spent; such a node
 * has the same operations legal next, since an optional operation has no deadline.
 * - An optional operation that leaves the state unchanged: its node is dominated by this one.
 * - Any operation right after an optional one, when applying it in the optional one's place
 *   gives the same state: the node is dominated by that sibling, which the parent enumerates.
 *   Without this, a run of unknown-outcome writes has the search try every subset of them.
 */
function isDominated<S, I, O>(
  model: Model<S, I, O>,
  top: Frame<S> | undefined,
  step: { call: Entry; op: Operation<I, O>; before: S; after: S },
): boolean {
  const { call, op, before, after } = step;
  const afterKey = model.stateKey(after);
  if (call.kind === 'optional' && model.stateKey(before) === afterKey) return true;
  if (top === undefined || top.call.kind !== 'optional') return false;
  const instead = model.step(top.stateBefore, op.input, op.output);
  return instead.ok && model.stateKey(instead.state) === afterKey;
}

const budgetCheckInterval = 1024;

/**
 * Searches for a linearization of one partition. At each node the candidates are the calls
 * before the earliest pending return, tried in time order (optional ones too: an
 * unknown-outcome write that did land usually took effect soon after its call; trying such
 * calls last was measured to cost far more backtracking). A candidate the model accepts is
 * linearized unless its node was explored before; reaching a return entry undoes the last
 * choice. Optional operations never have to be linearized: once every required one is, the
 * rest can take effect last (the model accepts any outcome for them) or not at all.
 */
export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: Operation<I, O>[],
  budget: Budget,
): SearchOutcome<S> {
  const optional = ops.map((op) => op.return === Infinity && op.output === undefined);
  let requiredLeft = optional.filter((o) => !o).length;
  const head = buildList(ops, optional);
  const linearized = new LinearizedSet(ops.length);
  const memo = new Memo();
  const stack: Frame<S>[] = [];
  let state = model.init();
  let longestPrefix: number[] = [];
  let stateAfterPrefix = state;
  let entry = head.next;
  let steps = 0;

  while (requiredLeft > 0) {
    if (++steps % budgetCheckInterval === 0) {
      budget.stepsLeft -= budgetCheckInterval;
      if (budget.stepsLeft < 0) return { kind: 'exhausted', reason: 'steps' };
      if (performance.now() > budget.deadlineMs) return { kind: 'exhausted', reason: 'timeout' };
    }
    // While a required operation is pending, its return entry ends the walk before the list does.
    assert(entry !== null, 'linearizability: entry list ended before its last return');
    if (entry.kind !== 'return') {
      const op = ops[entry.op]!;
      const result = model.step(state, op.input, op.output);
      const step = { call: entry, op, before: state, after: result.state };
      if (result.ok && !isDominated(model, stack.at(-1), step)) {
        linearized.toggle(entry.op);
        if (memo.add(linearized, model.stateKey(result.state))) {
          stack.push({ call: entry, stateBefore: state });
          state = result.state;
          lift(entry);
          if (entry.kind === 'call') requiredLeft--;
          entry = head.next;
          continue;
        }
        linearized.toggle(entry.op);
      }
      entry = entry.next;
      continue;
    }
    // A return entry: its operation can no longer be linearized in time. Undo the last choice.
    if (stack.length > longestPrefix.length) {
      longestPrefix = stack.map((frame) => frame.call.op);
      stateAfterPrefix = state;
    }
    const frame = stack.pop();
    if (frame === undefined) return { kind: 'illegal', longestPrefix, stateAfterPrefix };
    state = frame.stateBefore;
    linearized.toggle(frame.call.op);
    unlift(frame.call);
    if (frame.call.kind === 'call') requiredLeft++;
    entry = frame.call.next;
  }
  budget.stepsLeft -= steps % budgetCheckInterval;
  return { kind: 'ok' };
}
