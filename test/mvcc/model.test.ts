// A model-based property test: random puts, deletes, multi-op txns, compactions, reopens and
// ranges at random past revisions, checked against a naive in-memory model of etcd's semantics
// (a full copy of the key space per revision). Ranges must match the model exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isMvccError, MvccErrorCode, Store } from '../../src/mvcc/index.ts';
import type { KeyValue } from '../../src/mvcc/index.ts';
import { tempDir } from './helpers.ts';

interface ModelKv {
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}
type Snapshot = Map<string, ModelKv>; // hex key → kv

/** etcd semantics, naively: one whole snapshot per revision. */
class Model {
  snapshots: Snapshot[] = [new Map(), new Map()]; // revisions 0 and 1 are empty
  compacted = 0;
  get current(): number {
    return this.snapshots.length - 1;
  }
  /** Applies one txn's ops; returns whether anything changed. */
  apply(ops: Op[]): void {
    const next = new Map(this.snapshots[this.current]);
    const rev = this.current + 1;
    let changed = false;
    for (const op of ops) {
      if (op.kind === 'put') {
        const prev = next.get(op.key);
        next.set(op.key, {
          value: op.value,
          createRevision: prev?.createRevision ?? rev,
          modRevision: rev,
          version: (prev?.version ?? 0) + 1,
        });
        changed = true;
      } else {
        for (const key of matching(next, op.key, op.end)) {
          next.delete(key);
          changed = true;
        }
      }
    }
    if (changed) this.snapshots.push(next);
  }
}

type Op = { kind: 'put'; key: string; value: string } | { kind: 'delete'; key: string; end: string | undefined };
type Command =
  | { kind: 'txn'; ops: Op[] }
  | { kind: 'range'; key: string; end: string | undefined; back: number; limit: number }
  | { kind: 'compact'; back: number }
  | { kind: 'reopen' };

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

function inRange(key: string, from: string, end: string | undefined): boolean {
  const k = Buffer.from(key, 'hex');
  if (end === undefined) return Buffer.compare(k, Buffer.from(from, 'hex')) === 0;
  if (Buffer.compare(k, Buffer.from(from, 'hex')) < 0) return false;
  return end === '00' || Buffer.compare(k, Buffer.from(end, 'hex')) < 0;
}

function matching(snapshot: Snapshot, from: string, end: string | undefined): string[] {
  return [...snapshot.keys()]
    .filter((k) => inRange(k, from, end))
    .sort((a, b) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')));
}

// Keys from a tiny alphabet, so that they collide, prefix each other and hold 0x00 and 0xff.
const keyArb = fc
  .array(fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0xff), { minLength: 1, maxLength: 3 })
  .map((bytes) => Buffer.from(bytes).toString('hex'));
const endArb = fc.option(fc.oneof(keyArb, fc.constant('00')), { nil: undefined });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: fc.string({ maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb, end: endArb }) },
);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('txn' as const), ops: fc.array(opArb, { minLength: 1, maxLength: 3 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('range' as const),
      key: fc.oneof(keyArb, fc.constant('')),
      end: endArb,
      back: fc.nat({ max: 12 }),
      limit: fc.nat({ max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat({ max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

function toModelRow(key: string, kv: ModelKv): unknown[] {
  return [key, kv.value, kv.createRevision, kv.modRevision, kv.version];
}
function toStoreRow(kv: KeyValue): unknown[] {
  return [Buffer.from(kv.key).toString('hex'), new TextDecoder().decode(kv.value), kv.createRevision, kv.modRevision, kv.version];
}

function checkRange(store: Store, model: Model, c: Extract<Command, { kind: 'range' }>): void {
  // Aim at any revision from a bit below the compact revision to one above current.
  const rev = Math.max(1, model.current + 1 - c.back);
  const end = c.end === undefined ? undefined : hexBytes(c.end);
  const run = () => store.range(hexBytes(c.key), end, { revision: rev, limit: c.limit });
  if (rev > model.current) {
    assert.throws(run, (e: unknown) => isMvccError(e, MvccErrorCode.futureRevision));
    return;
  }
  if (rev < model.compacted) {
    assert.throws(run, (e: unknown) => isMvccError(e, MvccErrorCode.compacted));
    return;
  }
  const snapshot = model.snapshots[rev]!;
  const keys = c.key === '' && c.end === undefined ? [] : matching(snapshot, c.key, c.end);
  const limited = c.limit > 0 ? keys.slice(0, c.limit) : keys;
  const got = run();
  assert.equal(got.count, keys.length, `count at ${rev}`);
  assert.equal(got.revision, model.current);
  assert.deepEqual(got.kvs.map(toStoreRow), limited.map((k) => toModelRow(k, snapshot.get(k)!)));
}

test('mvcc - random puts, deletes, txns, compactions and reopens match a model of etcd', async (t) => {
  const root = tempDir(t);
  let runIndex = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 40 }), async (commands) => {
      let store = Store.open(`${root}/run-${runIndex++}`, { compactionChunkEntries: 3 });
      const model = new Model();
      try {
        for (const c of commands) {
          if (c.kind === 'txn') {
            store.write(store.consistentIndex + 1, (txn) => {
              for (const op of c.ops) {
                if (op.kind === 'put') txn.put(hexBytes(op.key), new TextEncoder().encode(op.value));
                else txn.deleteRange(hexBytes(op.key), op.end === undefined ? undefined : hexBytes(op.end));
              }
            });
            model.apply(c.ops);
            assert.equal(store.currentRevision, model.current);
          } else if (c.kind === 'range') {
            checkRange(store, model, c);
          } else if (c.kind === 'compact') {
            const rev = model.current - c.back;
            if (rev > model.compacted && rev >= 1) {
              await store.compact(rev).done;
              model.compacted = rev;
            }
          } else {
            await store.close();
            store = Store.open(`${root}/run-${runIndex - 1}`, { compactionChunkEntries: 3 });
          }
        }
        // Finally, every uncompacted revision over the whole key space.
        for (let rev = Math.max(1, model.compacted); rev <= model.current; rev++) {
          checkRange(store, model, { kind: 'range', key: '', end: '00', back: model.current + 1 - rev, limit: 0 });
        }
      } finally {
        await store.close();
      }
    }),
    { numRuns: 60 },
  );
});
