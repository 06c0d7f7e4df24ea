// Known-good and known-bad register histories: the checker must pass the first and report each
// of the second (lost writes, stale reads, a failed write that took effect).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRegister, type RegisterEntry, type RegisterInput, type RegisterOutput } from './checkers/register.ts';
import type { Outcome } from './history.ts';

let index = 0;
function op(
  process: number,
  [invokeMs, completeMs]: [number, number],
  input: RegisterInput,
  outcome: Outcome,
  output?: RegisterOutput,
): RegisterEntry {
  return {
    index: index++, workload: 'register', process, endpoint: '', invokeMs,
    completeMs: outcome === 'unknown' ? Infinity : completeMs, input, outcome,
    ...(output === undefined ? {} : { output }),
  };
}
const read = (p: number, t: [number, number], key: string, value: string | null): RegisterEntry =>
  op(p, t, { op: 'read', key }, 'ok', { value });
const write = (p: number, t: [number, number], key: string, value: string, outcome: Outcome = 'ok'): RegisterEntry =>
  op(p, t, { op: 'write', key, value }, outcome, outcome === 'ok' ? {} : undefined);
const cas = (p: number, t: [number, number], key: string, expected: string | null, value: string, succeeded: boolean | undefined): RegisterEntry =>
  op(p, t, { op: 'cas', key, expected, value, by: 'value' }, succeeded === undefined ? 'unknown' : succeeded ? 'ok' : 'failed',
    succeeded === undefined ? undefined : { succeeded });

test('register checker - a linearizable history with concurrent writes, cas and reads passes', () => {
  const v = checkRegister([
    write(1, [0, 10], 'a', 'x'),
    read(2, [5, 15], 'a', 'x'),
    cas(3, [12, 20], 'a', 'x', 'y', true),
    write(1, [14, 30], 'a', 'z'),
    read(2, [31, 40], 'a', 'z'),
    cas(3, [32, 41], 'a', 'x', 'w', false),
    read(4, [0, 1], 'b', null),
  ]);
  assert.equal(v.result, 'ok', v.summary);
});

test('register checker - an unknown write may take effect late or never', () => {
  const late = checkRegister([
    write(1, [0, 10], 'a', 'x'),
    write(2, [5, 0], 'a', 'y', 'unknown'),
    read(3, [20, 25], 'a', 'x'),
    read(3, [30, 35], 'a', 'y'),
  ]);
  assert.equal(late.result, 'ok', late.summary);
  const never = checkRegister([write(1, [0, 10], 'a', 'x'), write(2, [5, 0], 'a', 'y', 'unknown'), read(3, [20, 25], 'a', 'x')]);
  assert.equal(never.result, 'ok', never.summary);
});

test('register checker - a lost write is reported (the final read shows the older value)', () => {
  const v = checkRegister([
    write(1, [0, 10], 'a', 'x'),
    write(2, [20, 30], 'a', 'y'),
    read(3, [40, 45], 'a', 'x'),
  ]);
  assert.equal(v.result, 'violation');
  assert.equal(v.violations[0]?.kind, 'not-linearizable');
  assert.match(v.violations[0]!.message, /key "a"/);
  assert.ok(v.violations[0]!.window.some((line) => line.includes('get("a") -> "x"')), v.violations[0]!.window.join('\n'));
});

test('register checker - a stale read is reported (a read after a completed write misses it)', () => {
  const v = checkRegister([
    write(1, [0, 10], 'k', '1'),
    read(2, [12, 14], 'k', '1'),
    write(1, [15, 20], 'k', '2'),
    read(2, [21, 22], 'k', '2'),
    read(3, [25, 26], 'k', '1'),
  ]);
  assert.equal(v.result, 'violation');
});

test('register checker - a failed write that took effect is reported', () => {
  const v = checkRegister([write(1, [0, 10], 'a', 'x', 'failed'), read(2, [20, 25], 'a', 'x')]);
  assert.equal(v.result, 'violation');
});

test('register checker - a cas that succeeded against the wrong value is reported', () => {
  const v = checkRegister([write(1, [0, 10], 'a', 'x'), cas(2, [20, 25], 'a', 'q', 'z', true)]);
  assert.equal(v.result, 'violation');
});

test('register checker - a cas that failed although the value matched is reported', () => {
  const v = checkRegister([write(1, [0, 10], 'a', 'x'), cas(2, [20, 25], 'a', 'x', 'z', false)]);
  assert.equal(v.result, 'violation');
});
