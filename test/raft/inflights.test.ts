import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Inflights } from '../../src/raft/tracker/inflights.ts';
import { InvariantError } from '../../src/util/assert.ts';

test('inflights - adding up to capacity fills the window and freeing reopens it', () => {
  const inf = new Inflights(10, 0);
  for (let i = 0; i < 5; i++) inf.add(i, 100);
  assert.equal(inf.count(), 5);
  assert.equal(inf.full(), false);
  for (let i = 5; i < 10; i++) inf.add(i, 100);
  assert.equal(inf.count(), 10);
  assert.equal(inf.full(), true);
  assert.throws(() => inf.add(10, 1), InvariantError);
  inf.freeLE(4);
  assert.equal(inf.count(), 5);
  assert.equal(inf.full(), false);
  assert.deepEqual(inf.indexes(), [5, 6, 7, 8, 9]);
  assert.equal(inf.bytes(), 500);
});

test('inflights - the ring wraps around and keeps the oldest message first', () => {
  const inf = new Inflights(10, 0);
  for (let i = 0; i < 10; i++) inf.add(i, 1);
  inf.freeLE(6);
  for (let i = 10; i < 17; i++) inf.add(i, 1);
  assert.equal(inf.full(), true);
  assert.deepEqual(inf.indexes(), [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  inf.freeLE(12);
  assert.deepEqual(inf.indexes(), [13, 14, 15, 16]);
  inf.freeLE(100);
  assert.equal(inf.count(), 0);
  assert.equal(inf.bytes(), 0);
});

test('inflights - freeing below the oldest message or on an empty window changes nothing', () => {
  const inf = new Inflights(4, 0);
  inf.freeLE(10);
  assert.equal(inf.count(), 0);
  inf.add(5, 1);
  inf.add(8, 1);
  inf.freeLE(4);
  assert.deepEqual(inf.indexes(), [5, 8]);
  inf.freeLE(7);
  assert.deepEqual(inf.indexes(), [8]);
});

test('inflights - freeFirstOne frees exactly the oldest message', () => {
  const inf = new Inflights(3, 0);
  inf.add(1, 1);
  inf.add(2, 1);
  inf.add(3, 1);
  inf.freeFirstOne();
  assert.deepEqual(inf.indexes(), [2, 3]);
  inf.freeFirstOne();
  inf.freeFirstOne();
  inf.freeFirstOne();
  assert.equal(inf.count(), 0);
});

test('inflights - a byte budget fills the window before the count does', () => {
  const inf = new Inflights(10, 1000);
  inf.add(1, 400);
  inf.add(2, 500);
  assert.equal(inf.full(), false);
  // The message that crosses the budget is still sent; only the next one waits.
  inf.add(3, 200);
  assert.equal(inf.full(), true);
  inf.freeLE(1);
  assert.equal(inf.bytes(), 700);
  assert.equal(inf.full(), false);
  inf.add(4, 300);
  assert.equal(inf.full(), true);
});

test('inflights - indexes must be added in increasing order', () => {
  const inf = new Inflights(4, 0);
  inf.add(5, 1);
  assert.throws(() => inf.add(5, 1), InvariantError);
  assert.throws(() => inf.add(3, 1), InvariantError);
});

test('inflights - reset empties the window and clone is independent', () => {
  const inf = new Inflights(4, 100);
  inf.add(1, 60);
  inf.add(2, 60);
  const copy = inf.clone();
  inf.reset();
  assert.equal(inf.count(), 0);
  assert.equal(inf.bytes(), 0);
  assert.equal(inf.full(), false);
  assert.deepEqual(copy.indexes(), [1, 2]);
  assert.equal(copy.full(), true);
  copy.freeLE(1);
  assert.equal(inf.count(), 0);
  assert.deepEqual(copy.indexes(), [2]);
});

test('inflights - random add and free sequences agree with a plain array model', () => {
  const opArb = fc.oneof(
    fc.record({
      op: fc.constant('add' as const),
      gap: fc.integer({ min: 1, max: 3 }),
      bytes: fc.nat(50),
    }),
    fc.record({ op: fc.constant('free' as const), back: fc.integer({ min: -2, max: 10 }) }),
    fc.record({ op: fc.constant('first' as const) }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 300 }),
      fc.array(opArb, { maxLength: 200 }),
      (capacity, bytesMax, ops) => {
        const inf = new Inflights(capacity, bytesMax);
        let model: Array<[number, number]> = [];
        let last = 0;
        const modelBytes = (): number => model.reduce((s, [, b]) => s + b, 0);
        const modelFull = (): boolean =>
          model.length === capacity || (bytesMax > 0 && modelBytes() >= bytesMax);
        for (const o of ops) {
          if (o.op === 'add') {
            if (modelFull()) continue;
            last += o.gap;
            inf.add(last, o.bytes);
            model.push([last, o.bytes]);
          } else if (o.op === 'free') {
            const to = last - o.back;
            inf.freeLE(to);
            model = model.filter(([i]) => i > to);
          } else {
            inf.freeFirstOne();
            model = model.slice(1);
          }
          assert.deepEqual(inf.indexes(), model.map(([i]) => i));
          assert.equal(inf.bytes(), modelBytes());
          assert.equal(inf.full(), modelFull());
        }
      },
    ),
    { numRuns: 300 },
  );
});
