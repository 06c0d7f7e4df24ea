// The key space keeps history and keys on disk: writing many keys must not grow the JS heap by
// anything like the data's size. Coarse by design (heap after GC, not timings).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { b, openStore, zero } from './helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('mvcc - writing 200k keys leaves the JS heap far smaller than the data', (t) => {
  const { store } = openStore(t);
  gc();
  const before = process.memoryUsage().heapUsed;
  const keys = 200_000;
  const value = new Uint8Array(100).fill(0x76);
  const perBatch = 1000;
  for (let i = 0; i < keys; i += perBatch) {
    store.batch(() => {
      for (let j = i; j < i + perBatch; j++) {
        store.write(j + 1, (txn) => txn.put(b(`/registry/pods/default/pod-${j}`), value));
      }
    });
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  const dataBytes = keys * (30 + value.length);
  assert.equal(store.currentRevision, keys + 1);
  assert.equal(store.range(b('/registry/'), zero, { countOnly: true }).count, keys);
  assert.ok(grown < dataBytes / 10, `heap grew ${grown} bytes for ${dataBytes} bytes of data`);
});
