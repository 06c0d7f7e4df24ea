// Compaction, hashKV and history: what compaction removes and keeps (etcd's keyIndex.compact
// rule), the errors around the compact revision, hashes matching real etcd, and watch replay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventType, isMvccError, MvccErrorCode } from '../../src/mvcc/index.ts';
import type { Store } from '../../src/mvcc/index.ts';
import { b, openStore, putEach, rawHistory, row, s, zero } from './helpers.ts';

/** The history etcd 3.4.23 was given to produce the golden hashes below. */
function etcdHistory(store: Store): void {
  let i = 1;
  store.write(i++, (t) => t.put(b('a'), b('1'))); // 2
  store.write(i++, (t) => t.put(b('b'), b('2'))); // 3
  store.write(i++, (t) => t.put(b('a'), b('3'))); // 4
  store.write(i++, (t) => t.deleteRange(b('b'))); // 5
  store.write(i++, (t) => t.put(b('c'), b(''))); // 6
  store.write(i++, (t) => {
    t.put(b('x'), b('1'));
    t.put(b('y'), b('2'));
    t.deleteRange(b('a'));
  }); // 7
  store.write(i++, (t) => t.put(b('z'), b('v'))); // 8
  store.write(i, (t) => t.put(b('l'), b('v'), { lease: 0x390da2128912d20dn })); // 9
}


test('mvcc - compaction keeps the latest put of each key at or below it and drops older history', async (t) => {
  const { store, dir } = openStore(t, { compactionChunkEntries: 2 });
  putEach(store, [['a', '1'], ['b', '1'], ['a', '2'], ['c', '1'], ['a', '3']]); // 2..6
  store.write(store.consistentIndex + 1, (txn) => txn.deleteRange(b('b'))); // 7
  putEach(store, [['c', '2']]); // 8
  await store.compact(6).done;
  const ranges = [store.range(b('a'), zero, { revision: 6 }), store.range(b('a'), zero)];
  await store.close();
  assert.deepEqual(await rawHistory(dir), [
    '3.0 PUT b', // b's latest ≤ 6 (deleted later, at 7)
    '5.0 PUT c',
    '6.0 PUT a',
    '7.0 DELETE b',
    '8.0 PUT c',
  ]);
  assert.deepEqual(ranges[0]?.kvs.map(row), [
    ['a', '3', 2, 6, 3],
    ['b', '1', 3, 3, 1],
    ['c', '1', 5, 5, 1],
  ]);
  assert.deepEqual(ranges[1]?.kvs.map(row), [
    ['a', '3', 2, 6, 3],
    ['c', '2', 5, 8, 2],
  ]);
});

test('mvcc - compaction drops tombstones below it, but keeps one exactly at it', async (t) => {
  const { store, dir } = openStore(t);
  putEach(store, [['a', '1'], ['b', '1']]); // 2, 3
  store.write(10, (txn) => txn.deleteRange(b('a'))); // 4
  store.write(11, (txn) => txn.deleteRange(b('b'))); // 5
  putEach(store, [['c', '1']]); // 6
  await store.compact(5).done;
  assert.deepEqual(store.eventsSince(5).events.map((e) => `${e.type} ${s(e.kv.key)}`), [
    'DELETE b',
    'PUT c',
  ]);
  const atFive = store.range(b('a'), zero, { revision: 5 }).kvs;
  await store.compact(6).done;
  const atSix = store.range(b('a'), zero, { revision: 6 }).kvs.map(row);
  await store.close();
  assert.deepEqual(atFive, []);
  assert.deepEqual(atSix, [['c', '1', 6, 6, 1]]);
  assert.deepEqual(await rawHistory(dir), ['6.0 PUT c']);
});

test('mvcc - ranges and compactions below the compact revision fail, above current too', async (t) => {
  const { store } = openStore(t);
  putEach(store, [['a', '1'], ['a', '2'], ['a', '3']]); // 2, 3, 4
  await store.compact(3).done;
  const compacted = (e: unknown) =>
    isMvccError(e, MvccErrorCode.compacted) &&
    e.compactRevision === 3 &&
    e.message === 'mvcc: required revision has been compacted';
  assert.throws(() => store.range(b('a'), undefined, { revision: 2 }), compacted);
  assert.deepEqual(store.range(b('a'), undefined, { revision: 3 }).kvs.map(row), [['a', '2', 2, 3, 2]]);
  assert.throws(() => store.compact(3), compacted);
  assert.throws(() => store.compact(2), compacted);
  assert.throws(() => store.compact(5), (e: unknown) => isMvccError(e, MvccErrorCode.futureRevision));
  assert.throws(() => store.eventsSince(2), compacted);
  assert.throws(() => store.hashKV(2), compacted);
  assert.throws(() => store.hashKV(5), (e: unknown) => isMvccError(e, MvccErrorCode.futureRevision));
});

test('mvcc - hashKV equals real etcd 3.4.23 for the same history, before and after compaction', async (t) => {
  const { store } = openStore(t);
  etcdHistory(store);
  assert.deepEqual(store.hashKV(), { hash: 64705991, compactRevision: -1, revision: 9 });
  assert.equal(store.hashKV(3).hash, 1827592406);
  assert.equal(store.hashKV(7).hash, 1409838154);
  await store.compact(5).done;
  assert.deepEqual(store.hashKV(), { hash: 3990264502, compactRevision: 5, revision: 9 });
  assert.equal(store.hashKV(7).hash, 9913750);
});

test('mvcc - hashKV is equal for equal histories and differs otherwise', (t) => {
  const one = openStore(t).store;
  const two = openStore(t).store;
  const three = openStore(t).store;
  etcdHistory(one);
  etcdHistory(two);
  etcdHistory(three);
  three.write(100, (txn) => txn.put(b('extra'), b('1')));
  assert.equal(one.hashKV().hash, two.hashKV().hash);
  assert.equal(one.hashKV(9).hash, three.hashKV(9).hash);
  assert.notEqual(one.hashKV().hash, three.hashKV().hash);
  const four = openStore(t).store;
  etcdHistory(four);
  four.write(100, (txn) => txn.put(b('x'), b('different')));
  one.write(100, (txn) => txn.put(b('x'), b('differenT')));
  assert.notEqual(one.hashKV().hash, four.hashKV().hash);
});

test('mvcc - eventsSince replays history by revision, filtered, in whole revisions', (t) => {
  const { store } = openStore(t);
  etcdHistory(store);
  const all = store.eventsSince(2);
  assert.equal(all.nextRevision, 10);
  assert.equal(all.events.length, 10);
  const seven = store.eventsSince(7, { endRevision: 7, prevKv: true });
  assert.deepEqual(seven.events.map((e) => [e.type, s(e.kv.key), e.kv.modRevision, e.sub]), [
    [EventType.put, 'x', 7, 0],
    [EventType.put, 'y', 7, 1],
    [EventType.delete, 'a', 7, 2],
  ]);
  assert.deepEqual(seven.events[2]?.prevKv && row(seven.events[2].prevKv), ['a', '3', 2, 4, 2]);
  assert.equal(seven.nextRevision, 8);
  // A limit of 1 still returns all three events of revision 7.
  const limited = store.eventsSince(7, { limit: 1 });
  assert.equal(limited.events.length, 3);
  assert.equal(limited.nextRevision, 8);
  const onlyA = store.eventsSince(2, { key: b('a') });
  assert.deepEqual(onlyA.events.map((e) => [e.type, e.kv.modRevision]), [
    [EventType.put, 2],
    [EventType.put, 4],
    [EventType.delete, 7],
  ]);
  const prefix = store.eventsSince(2, { key: b('x'), rangeEnd: zero });
  assert.deepEqual(prefix.events.map((e) => s(e.kv.key)), ['x', 'y', 'z']);
  assert.deepEqual(store.eventsSince(10), { events: [], nextRevision: 10 });
});
