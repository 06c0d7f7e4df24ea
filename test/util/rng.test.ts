import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/util/rng.ts';

test('rng - equal seeds give equal sequences and different seeds differ', () => {
  const a = new SeededRng(42);
  const b = new SeededRng(42);
  const c = new SeededRng(43);
  const seqA = Array.from({ length: 20 }, () => a.next());
  const seqB = Array.from({ length: 20 }, () => b.next());
  const seqC = Array.from({ length: 20 }, () => c.next());
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
});

test('rng - int stays in range and covers it', () => {
  const rng = new SeededRng(7);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = rng.int(10);
    assert.ok(v >= 0 && v < 10 && Number.isInteger(v));
    seen.add(v);
  }
  assert.equal(seen.size, 10);
});
