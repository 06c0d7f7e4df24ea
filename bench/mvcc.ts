// Micro-benchmark of the key space's apply path: puts per second for several batch sizes (write
// txns per LMDB transaction) and sync modes, plus ranges. Run: npx tsx bench/mvcc.ts [puts]
// The apply loop commits one LMDB transaction per apply batch; this shows what that buys.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, SyncMode } from '../src/mvcc/index.ts';

const total = Number(process.argv[2] ?? 20_000);
const value = new Uint8Array(256).fill(0x76);
const keyOf = (i: number): Uint8Array => new TextEncoder().encode(`/bench/key-${String(i).padStart(20, '0')}`);

async function withStore<T>(mode: SyncMode, fn: (store: Store) => T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-mvcc-'));
  const store = Store.open(dir, { syncMode: mode });
  try {
    return fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function putRate(store: Store, perBatch: number, count: number): number {
  const keys = Array.from({ length: count }, (_, i) => keyOf(i % 10_000));
  const start = performance.now();
  for (let i = 0; i < count; i += perBatch) {
    store.batch(() => {
      for (let j = i; j < Math.min(count, i + perBatch); j++) {
        store.write(store.consistentIndex + 1, (txn) => txn.put(keys[j]!, value));
      }
    });
  }
  return count / ((performance.now() - start) / 1000);
}

function rangeRate(store: Store, count: number, revision: number): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) store.range(keyOf((i * 7919) % 10_000), undefined, { revision });
  return count / ((performance.now() - start) / 1000);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(9);

console.log(`mvcc bench: 32-byte keys (10k distinct), 256-byte values, ${total} puts per row`);
for (const mode of [SyncMode.overlapping, SyncMode.deferred]) {
  for (const perBatch of [1, 16, 256]) {
    const count = perBatch === 1 ? Math.min(total, 2_000) : total;
    const rate = await withStore(mode, (store) => putRate(store, perBatch, count));
    console.log(`put  ${mode.padEnd(11)} ${String(perBatch).padStart(3)} txns/commit ${fmt(rate)} /s`);
  }
}
await withStore(SyncMode.deferred, (store) => {
  putRate(store, 256, 40_000);
  const current = store.currentRevision;
  console.log(`get  current revision                 ${fmt(rangeRate(store, 20_000, 0))} /s`);
  console.log(`get  past revision                    ${fmt(rangeRate(store, 20_000, current - 15_000))} /s`);
  const start = performance.now();
  const all = store.range(keyOf(0), new Uint8Array([0]));
  const ms = performance.now() - start;
  console.log(`range all ${all.kvs.length} keys: ${ms.toFixed(1)} ms`);
  const t0 = performance.now();
  const past = store.range(keyOf(0), new Uint8Array([0]), { revision: current - 15_000 });
  console.log(`range all ${past.kvs.length} keys at a past revision: ${(performance.now() - t0).toFixed(1)} ms`);
  const t1 = performance.now();
  store.hashKV();
  console.log(`hashKV over ${current} revisions: ${(performance.now() - t1).toFixed(1)} ms`);
});
