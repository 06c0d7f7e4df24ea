// etcd's Range request semantics on top of the key space: limit and `more`, sort order and
// target, mod/create revision filters applied before the limit, count before filters, keysOnly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executeRange, SortOrder, SortTarget } from '../../src/mvcc/index.ts';
import { b, openStore, putEach, s, zero } from './helpers.ts';

function fixture(t: Parameters<typeof openStore>[0]) {
  const { store } = openStore(t);
  // a@2, b@3, c@4, then a again @5 (version 2), d@6 with the smallest value.
  putEach(store, [['a', 'x1'], ['b', 'x3'], ['c', 'x2'], ['a', 'x4'], ['d', 'x0']]);
  return store;
}

test('mvcc range request - limit truncates and sets more, count stays the total', (t) => {
  const store = fixture(t);
  const r = executeRange(store, { key: b('a'), rangeEnd: zero, limit: 2 });
  assert.deepEqual(r.kvs.map((kv) => s(kv.key)), ['a', 'b']);
  assert.equal(r.more, true);
  assert.equal(r.count, 4);
  assert.equal(r.revision, 6);
  const all = executeRange(store, { key: b('a'), rangeEnd: zero, limit: 4 });
  assert.equal(all.more, false);
});

test('mvcc range request - sorts by each target, ascending by default when the target is not KEY', (t) => {
  const store = fixture(t);
  const keys = (sortTarget: SortTarget, sortOrder?: SortOrder) =>
    executeRange(store, {
      key: b('a'),
      rangeEnd: zero,
      sortTarget,
      ...(sortOrder === undefined ? {} : { sortOrder }),
    }).kvs.map((kv) => s(kv.key));
  assert.deepEqual(keys(SortTarget.key, SortOrder.descend), ['d', 'c', 'b', 'a']);
  assert.deepEqual(keys(SortTarget.value), ['d', 'c', 'b', 'a']);
  assert.deepEqual(keys(SortTarget.mod, SortOrder.descend), ['d', 'a', 'c', 'b']);
  assert.deepEqual(keys(SortTarget.create, SortOrder.ascend), ['a', 'b', 'c', 'd']);
  assert.deepEqual(keys(SortTarget.version, SortOrder.descend), ['a', 'b', 'c', 'd']);
});

test('mvcc range request - revision filters apply before the limit and do not change count', (t) => {
  const store = fixture(t);
  const r = executeRange(store, { key: b('a'), rangeEnd: zero, minModRevision: 4, limit: 1 });
  assert.deepEqual(r.kvs.map((kv) => s(kv.key)), ['a']);
  assert.equal(r.more, true); // c and d also pass the filter
  assert.equal(r.count, 4);
  const created = executeRange(store, { key: b('a'), rangeEnd: zero, maxCreateRevision: 3, minCreateRevision: 3 });
  assert.deepEqual(created.kvs.map((kv) => s(kv.key)), ['b']);
  const mod = executeRange(store, { key: b('a'), rangeEnd: zero, maxModRevision: 4 });
  assert.deepEqual(mod.kvs.map((kv) => s(kv.key)), ['b', 'c']);
});

test('mvcc range request - keysOnly blanks values and countOnly returns no kvs', (t) => {
  const store = fixture(t);
  const keysOnly = executeRange(store, { key: b('a'), rangeEnd: zero, keysOnly: true });
  assert.deepEqual(keysOnly.kvs.map((kv) => [s(kv.key), kv.value.length]), [['a', 0], ['b', 0], ['c', 0], ['d', 0]]);
  const countOnly = executeRange(store, { key: b('a'), rangeEnd: zero, countOnly: true, revision: 4 });
  assert.deepEqual(countOnly.kvs, []);
  assert.equal(countOnly.count, 3);
});
