// Copies of the backend: a snapshot opens as a store with the same history and consistent index;
// defragment shrinks the file and keeps everything; status reports sizes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMvccError, MvccErrorCode, Store } from '../../src/mvcc/index.ts';
import { b, openStore, tempDir, zero } from './helpers.ts';

function fill(store: Store, keys: number, round: number): void {
  store.batch(() => {
    for (let i = 0; i < keys; i++) {
      store.write(store.consistentIndex + 1, (txn) => txn.put(b(`key-${i}`), new Uint8Array(200).fill(round)));
    }
  });
}

test('mvcc - a snapshot copy opens as a store with the same history and consistent index', async (t) => {
  const { store } = openStore(t);
  fill(store, 50, 1);
  fill(store, 50, 2);
  const target = join(tempDir(t), 'snap');
  const info = await store.snapshot(target);
  fill(store, 10, 3); // after the copy: not in it
  assert.equal(info.revision, 101);
  assert.equal(info.consistentIndex, 100);
  assert.ok(info.sizeBytes > 0);
  const copy = Store.open(target);
  t.after(() => copy.close());
  assert.equal(copy.currentRevision, 101);
  assert.equal(copy.consistentIndex, 100);
  assert.equal(copy.hashKV().hash, store.hashKV(101).hash);
  assert.equal(copy.range(b('key-0'), undefined, { revision: 2 }).kvs[0]?.value[0], 1);
});

test('mvcc - defragment after compaction shrinks the file and keeps the data', async (t) => {
  const { store } = openStore(t);
  for (let round = 1; round <= 20; round++) fill(store, 200, round);
  const hashBefore = store.hashKV().hash;
  await store.compact(store.currentRevision).done;
  const before = store.status();
  assert.ok(before.sizeInUseBytes < before.sizeBytes, 'compaction frees pages');
  const running = store.defragment();
  assert.throws(() => store.range(b('a')), (e: unknown) => isMvccError(e, MvccErrorCode.closed));
  await running;
  const after = store.status();
  assert.ok(after.sizeBytes < before.sizeBytes / 2, `${after.sizeBytes} < ${before.sizeBytes} / 2`);
  assert.equal(after.revision, before.revision);
  assert.equal(after.consistentIndex, before.consistentIndex);
  assert.equal(store.range(b('key-'), zero, { countOnly: true }).count, 200);
  assert.notEqual(store.hashKV().hash, 0);
  assert.equal(typeof hashBefore, 'number');
  fill(store, 1, 99);
  assert.equal(store.currentRevision, before.revision + 1);
});
