import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/util/clock.ts';
import type { Clock } from '../../src/util/clock.ts';
import { SystemClock } from '../../src/lease/index.ts';

// The Clock contract, run on every implementation: readings are finite and never go back.
function clockContract(name: string, make: () => { clock: Clock; pass: () => void }): void {
  test(`clock - ${name} readings are finite and never decrease`, () => {
    const { clock, pass } = make();
    let last = clock.nowMs();
    for (let i = 0; i < 1000; i++) {
      pass();
      const now = clock.nowMs();
      assert.ok(Number.isFinite(now) && now >= last, `${now} after ${last}`);
      last = now;
    }
  });
}

clockContract('the system clock', () => ({ clock: new SystemClock(), pass: () => {} }));
clockContract('a manual clock', () => {
  const clock = new ManualClock();
  let i = 0;
  return { clock, pass: () => clock.advance(i++ % 3) };
});

test('clock - a manual clock moves only when told and never backwards', () => {
  const clock = new ManualClock(10);
  assert.equal(clock.nowMs(), 10);
  clock.advance(5);
  clock.set(20);
  assert.equal(clock.nowMs(), 20);
  assert.throws(() => clock.set(19), /cannot go back/);
  assert.throws(() => clock.advance(-1), /cannot advance/);
});
