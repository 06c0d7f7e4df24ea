// The key space's read/write contract: revisions, generations, etcd's range_end rules, limits,
// write transactions seeing their own writes, and reopening with everything intact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventType, isMvccError, MvccErrorCode, Store } from '../../src/mvcc/index.ts';
import { b, openStore, putEach, row, s, zero } from './helpers.ts';

test('mvcc - an empty store is at revision 1 and each write txn adds one main revision', (t) => {
  const { store } = openStore(t);
  assert.equal(store.currentRevision, 1);
  putEach(store, [['a', '1'], ['b', '2']]);
  assert.equal(store.currentRevision, 3);
  assert.deepEqual(store.range(b('a')).kvs.map(row), [['a', '1', 2, 2, 1]]);
  assert.deepEqual(store.range(b('b')).kvs.map(row), [['b', '2', 3, 3, 1]]);
  assert.equal(store.range(b('a')).revision, 3);
});

test('mvcc - a range at a past revision sees the values of that revision', (t) => {
  const { store } = openStore(t);
  putEach(store, [['k', 'v1'], ['k', 'v2'], ['other', 'x'], ['k', 'v3']]);
  const at = (rev: number) => store.range(b('k'), undefined, { revision: rev }).kvs.map(row);
  assert.deepEqual(at(1), []);
  assert.deepEqual(at(2), [['k', 'v1', 2, 2, 1]]);
  assert.deepEqual(at(3), [['k', 'v2', 2, 3, 2]]);
  assert.deepEqual(at(4), [['k', 'v2', 2, 3, 2]]);
  assert.deepEqual(at(5), [['k', 'v3', 2, 5, 3]]);
  assert.equal(store.range(b('k'), undefined, { revision: 2 }).revision, 5);
});

test('mvcc - a revision above the current one is a future-revision error', (t) => {
  const { store } = openStore(t);
  putEach(store, [['a', '1']]);
  assert.throws(
    () => store.range(b('a'), undefined, { revision: 3 }),
    (e: unknown) =>
      isMvccError(e, MvccErrorCode.futureRevision) &&
      e.message === 'mvcc: required revision is a future revision',
  );
});

test('mvcc - range_end follows etcd: empty is one key, "\\0" is every key from key, else [key, end)', (t) => {
  const { store } = openStore(t);
  putEach(store, [['a', '1'], ['ab', '2'], ['b', '3'], ['c', '4']]);
  const keys = (key: Uint8Array, end?: Uint8Array) => store.range(key, end).kvs.map((kv) => s(kv.key));
  assert.deepEqual(keys(b('a')), ['a']);
  assert.deepEqual(keys(b('a'), new Uint8Array(0)), ['a']);
  assert.deepEqual(keys(b('ab'), zero), ['ab', 'b', 'c']);
  assert.deepEqual(keys(new Uint8Array(0), zero), ['a', 'ab', 'b', 'c']);
  assert.deepEqual(keys(b('a'), b('b')), ['a', 'ab']);
  assert.deepEqual(keys(b('a'), b('a\x00')), ['a']); // the end of a single key
  assert.deepEqual(keys(b('a'), b('a')), []);
  assert.deepEqual(keys(b('c'), b('a')), []);
  // A prefix range: [prefix, prefix with its last byte + 1).
  assert.deepEqual(keys(b('a'), b('b')), ['a', 'ab']);
});

test('mvcc - keys with 0x00 and 0xff bytes keep byte order, now and at past revisions', (t) => {
  const { store } = openStore(t);
  const keys = [[0x61], [0x61, 0x00], [0x61, 0x00, 0x00], [0x61, 0x00, 0x01], [0x61, 0x01], [0x61, 0xff], [0x61, 0xff, 0x00], [0xff], [0xff, 0xff]];
  const shuffled = [...keys].reverse();
  for (const k of shuffled) store.write(store.consistentIndex + 1, (txn) => txn.put(new Uint8Array(k), b('v')));
  const hex = (kvs: { key: Uint8Array }[]) => kvs.map((kv) => Buffer.from(kv.key).toString('hex'));
  const expected = keys.map((k) => Buffer.from(k).toString('hex'));
  const current = store.currentRevision;
  store.write(store.consistentIndex + 1, (txn) => txn.put(b('zzz'), b('later')));
  const nowKeys = hex(store.range(new Uint8Array([0x61]), zero).kvs);
  assert.deepEqual(nowKeys.filter((k) => k !== '7a7a7a'), expected);
  assert.deepEqual(hex(store.range(new Uint8Array([0x61]), zero, { revision: current }).kvs), expected);
  const sub = (lo: number[], hi: number[], rev?: number) =>
    hex(store.range(new Uint8Array(lo), new Uint8Array(hi), rev === undefined ? {} : { revision: rev }).kvs);
  assert.deepEqual(sub([0x61, 0x00], [0x61, 0x01]), ['6100', '610000', '610001']);
  assert.deepEqual(sub([0x61, 0x00], [0x61, 0x01], current), ['6100', '610000', '610001']);
  assert.deepEqual(sub([0x61, 0xff], [0xff, 0xff], current), ['61ff', '61ff00', 'ff']);
  assert.deepEqual(sub([0x61], [0x61, 0x00], current), ['61']);
});

test('mvcc - limit bounds the kvs while count is every match, now and in the past', (t) => {
  const { store } = openStore(t);
  putEach(store, [['a', '1'], ['b', '2'], ['c', '3'], ['d', '4']]);
  const now = store.range(b('a'), zero, { limit: 2 });
  assert.deepEqual(now.kvs.map((kv) => s(kv.key)), ['a', 'b']);
  assert.equal(now.count, 4);
  const past = store.range(b('a'), zero, { limit: 2, revision: 4 });
  assert.deepEqual(past.kvs.map((kv) => s(kv.key)), ['a', 'b']);
  assert.equal(past.count, 3);
  const counted = store.range(b('a'), zero, { countOnly: true, revision: 3 });
  assert.deepEqual(counted.kvs, []);
  assert.equal(counted.count, 2);
});

test('mvcc - a delete ends a generation and a re-put starts a new one at version 1', (t) => {
  const { store } = openStore(t);
  putEach(store, [['k', 'v1'], ['k', 'v2']]); // revisions 2, 3
  const del = store.write(10, (txn) => txn.deleteRange(b('k')));
  assert.equal(del.result.deleted, 1);
  assert.equal(del.revision, 4);
  assert.deepEqual(del.events.map((e) => [e.type, s(e.kv.key), e.kv.modRevision, e.kv.version]), [
    [EventType.delete, 'k', 4, 0],
  ]);
  assert.deepEqual(store.range(b('k')).kvs, []);
  putEach(store, [['k', 'v3']]); // revision 5
  assert.deepEqual(store.range(b('k')).kvs.map(row), [['k', 'v3', 5, 5, 1]]);
  assert.deepEqual(store.range(b('k'), undefined, { revision: 4 }).kvs, []);
  assert.deepEqual(store.range(b('k'), undefined, { revision: 3 }).kvs.map(row), [['k', 'v2', 2, 3, 2]]);
});

test('mvcc - a txn that writes nothing leaves the revision alone but records the consistent index', (t) => {
  const { store } = openStore(t);
  putEach(store, [['a', '1']]);
  const r = store.write(7, (txn) => txn.deleteRange(b('missing')));
  assert.equal(r.result.deleted, 0);
  assert.equal(r.revision, 2);
  assert.deepEqual(r.events, []);
  assert.equal(store.currentRevision, 2);
  assert.equal(store.consistentIndex, 7);
});

test('mvcc - a txn with several ops gets one main revision, sub revisions, and sees its writes', (t) => {
  const { store } = openStore(t);
  putEach(store, [['a', '0'], ['z', 'old']]); // revisions 2, 3
  const r = store.write(5, (txn) => {
    assert.equal(txn.revision, 3);
    const p1 = txn.put(b('a'), b('1'), { prevKv: true });
    assert.equal(txn.revision, 4);
    txn.put(b('b'), b('2'), { lease: 42n });
    const seen = txn.range(b('a'), zero).kvs.map(row);
    const del = txn.deleteRange(b('z'), undefined, { prevKv: true });
    const after = txn.range(b('a'), zero);
    return { p1, seen, del, after };
  });
  assert.equal(r.revision, 4);
  assert.deepEqual(r.result.p1.prevKv && row(r.result.p1.prevKv), ['a', '0', 2, 2, 1]);
  assert.deepEqual(r.result.seen, [['a', '1', 2, 4, 2], ['b', '2', 4, 4, 1], ['z', 'old', 3, 3, 1]]);
  assert.deepEqual(r.result.del.prevKvs.map(row), [['z', 'old', 3, 3, 1]]);
  assert.deepEqual(r.result.after.kvs.map((kv) => s(kv.key)), ['a', 'b']);
  assert.equal(r.result.after.revision, 4);
  assert.deepEqual(r.events.map((e) => [e.type, s(e.kv.key), e.kv.modRevision, e.sub]), [
    [EventType.put, 'a', 4, 0],
    [EventType.put, 'b', 4, 1],
    [EventType.delete, 'z', 4, 2],
  ]);
  assert.equal(r.events[0]?.prevKv?.modRevision, 2);
  assert.equal(store.range(b('b')).kvs[0]?.lease, 42n);
  // Two puts of one key in one txn: version counts both; the past sees neither before it.
  const twice = store.write(6, (txn) => {
    txn.put(b('t'), b('x'));
    return txn.put(b('t'), b('y'), { prevKv: true });
  });
  assert.deepEqual(twice.result.prevKv && row(twice.result.prevKv), ['t', 'x', 5, 5, 1]);
  assert.deepEqual(store.range(b('t')).kvs.map(row), [['t', 'y', 5, 5, 2]]);
});

test('mvcc - a put reports the lease the key had, for the lessor to detach', (t) => {
  const { store } = openStore(t);
  store.write(1, (txn) => txn.put(b('k'), b('v'), { lease: 7n }));
  const r = store.write(2, (txn) => txn.put(b('k'), b('w'), { lease: -3n }));
  assert.equal(r.result.prevLease, 7n);
  assert.equal(store.range(b('k')).kvs[0]?.lease, -3n);
  const d = store.write(3, (txn) => txn.deleteRange(b('k')));
  assert.deepEqual(d.result.leases, [-3n]);
});

test('mvcc - batch commits several write txns together and a throw rolls all of them back', (t) => {
  const { store } = openStore(t);
  const revisions = store.batch(() => [
    store.write(1, (txn) => txn.put(b('a'), b('1'))).revision,
    store.write(2, (txn) => txn.put(b('b'), b('2'))).revision,
  ]);
  assert.deepEqual(revisions, [2, 3]);
  assert.throws(() =>
    store.batch(() => {
      store.write(3, (txn) => txn.put(b('c'), b('3')));
      throw new Error('boom');
    }),
  );
  assert.equal(store.currentRevision, 3);
  assert.equal(store.consistentIndex, 2);
  assert.deepEqual(store.range(b('c')).kvs, []);
});

test('mvcc - an empty key cannot be put', (t) => {
  const { store } = openStore(t);
  assert.throws(
    () => store.write(1, (txn) => txn.put(new Uint8Array(0), b('v'))),
    (e: unknown) => isMvccError(e, MvccErrorCode.emptyKey),
  );
});

test('mvcc - reopening keeps history, revisions and the consistent index', async (t) => {
  const { store, dir } = openStore(t);
  putEach(store, [['a', '1'], ['b', '2'], ['a', '3']]);
  store.write(99, (txn) => txn.deleteRange(b('b')));
  await store.compact(3).done;
  await store.close();
  await store.close(); // idempotent
  const again = Store.open(dir);
  t.after(() => again.close());
  assert.equal(again.currentRevision, 5);
  assert.equal(again.compactRevision, 3);
  assert.equal(again.consistentIndex, 99);
  assert.deepEqual(again.range(b('a'), zero).kvs.map(row), [['a', '3', 2, 4, 2]]);
  assert.deepEqual(again.range(b('a'), zero, { revision: 3 }).kvs.map(row), [
    ['a', '1', 2, 2, 1],
    ['b', '2', 3, 3, 1],
  ]);
  putEach(again, [['c', '4']]);
  assert.equal(again.currentRevision, 6);
});

test('mvcc - a closed store refuses work', async (t) => {
  const { store } = openStore(t);
  await store.close();
  assert.throws(() => store.range(b('a')), (e: unknown) => isMvccError(e, MvccErrorCode.closed));
});
