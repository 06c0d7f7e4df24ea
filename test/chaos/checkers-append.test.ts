// Known-good and known-bad append histories: lost, duplicated and failed-but-applied appends,
// reads that are not prefixes, stale reads, fractured reads and reads in no common order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AppendEntry, type AppendInput, type AppendOutput, checkAppend } from './checkers/append.ts';
import type { Outcome } from './history.ts';

let index = 0;
function entry(process: number, [invokeMs, completeMs]: [number, number], input: AppendInput, outcome: Outcome, output?: AppendOutput): AppendEntry {
  return {
    index: index++, workload: 'append', process, endpoint: '', invokeMs,
    completeMs: outcome === 'unknown' ? Infinity : completeMs, input, outcome,
    ...(output === undefined ? {} : { output }),
  };
}
const read = (p: number, t: [number, number], lists: Record<string, string[]>): AppendEntry =>
  entry(p, t, { op: 'read', keys: Object.keys(lists) }, 'ok', { lists });
const append = (p: number, t: [number, number], parts: { key: string; value: string; base: string[] }[], outcome: Outcome = 'ok'): AppendEntry =>
  entry(p, t, { op: 'append', parts: parts.map((x) => ({ ...x, modRevision: 0 })) }, outcome,
    outcome === 'ok' ? { succeeded: true } : outcome === 'failed' ? { succeeded: false } : undefined);

/** A clean history on keys a and b: 1 → a, 2 → a+b, 3 → b; a failed and an unknown append. */
function clean(): AppendEntry[] {
  return [
    read(1, [0, 5], { a: [], b: [] }),
    append(1, [6, 10], [{ key: 'a', value: '1', base: [] }]),
    read(2, [11, 15], { a: ['1'], b: [] }),
    append(2, [16, 20], [{ key: 'a', value: '2', base: ['1'] }, { key: 'b', value: '2', base: [] }]),
    append(3, [17, 21], [{ key: 'a', value: '9', base: ['1'] }], 'failed'),
    read(1, [22, 25], { a: ['1', '2'], b: ['2'] }),
    append(1, [26, 30], [{ key: 'b', value: '3', base: ['2'] }]),
    append(3, [31, 0], [{ key: 'a', value: '4', base: ['1', '2'] }], 'unknown'),
    read(2, [40, 45], { a: ['1', '2'], b: ['2', '3'] }),
  ];
}
const finals = (): Record<string, string[]> => ({ a: ['1', '2'], b: ['2', '3'] });

test('append checker - a clean history with failed and unknown appends passes', () => {
  const v = checkAppend(clean(), finals());
  assert.equal(v.result, 'ok', JSON.stringify(v.violations, null, 1));
  const applied = checkAppend(clean(), { a: ['1', '2', '4'], b: ['2', '3'] });
  assert.equal(applied.result, 'ok', 'an unknown append may have taken effect');
});

function kinds(history: AppendEntry[], final: Record<string, string[]>): string[] {
  return [...new Set(checkAppend(history, final).violations.map((v) => v.kind))].sort();
}

test('append checker - an acknowledged append missing from the final list is a lost append', () => {
  assert.deepEqual(kinds(clean(), { a: ['1', '2'], b: ['2'] }), ['lost-append', 'not-prefix']);
});

test('append checker - a value twice in the final list is reported', () => {
  assert.ok(kinds(clean(), { a: ['1', '2'], b: ['2', '3', '3'] }).includes('duplicate'));
});

test('append checker - a failed append found in the final list is reported', () => {
  assert.ok(kinds(clean(), { a: ['1', '2', '9'], b: ['2', '3'] }).includes('failed-append-applied'));
});

test('append checker - a read that is not a prefix of the final list is reported', () => {
  const history = [...clean(), read(4, [50, 51], { a: ['2', '1'], b: ['2', '3'] })];
  assert.deepEqual(kinds(history, finals()), ['not-prefix']);
});

test('append checker - a stale read (after a completed append, without it) is reported', () => {
  const history = [...clean(), read(4, [50, 51], { a: ['1'], b: ['2', '3'] })];
  assert.ok(kinds(history, finals()).includes('stale-read'));
});

test('append checker - a read that sees half of a multi-key append is reported', () => {
  // Concurrent with the multi-key append, so not stale: but it sees b's part without a's.
  const history = [...clean(), read(4, [16, 19], { a: ['1'], b: ['2'] })];
  assert.ok(kinds(history, finals()).includes('fractured-read'));
});

test('append checker - reads that disagree on the order of appends across keys are reported', () => {
  const history = [
    append(1, [0, 10], [{ key: 'a', value: '1', base: [] }]),
    append(2, [0, 10], [{ key: 'b', value: '2', base: [] }]),
    read(3, [1, 9], { a: ['1'], b: [] }),
    read(4, [1, 9], { a: [], b: ['2'] }),
  ];
  assert.deepEqual(kinds(history, { a: ['1'], b: ['2'] }), ['no-total-order']);
});
