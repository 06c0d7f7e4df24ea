// Properties of the backend encodings: escaped keys with revisions sort by key bytes then
// revision, escaping round-trips, and KeyValue bytes round-trip (negative leases included).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeKeyValue,
  decodeRevision,
  encodeIndexKey,
  encodeKeyValue,
  encodeRevision,
  escapeKey,
  isTombstoneBytes,
  unescapeKey,
} from '../../src/mvcc/encoding.ts';

const keyArb = fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => Uint8Array.from(a.map((x) => [0, 1, 0xfe, 0xff, 0x61][x % 5]!)));
const revArb = fc.record({ main: fc.nat({ max: 2 ** 53 - 1 }), sub: fc.nat({ max: 1000 }) });

test('mvcc encoding - index keys order by key bytes, then by revision', () => {
  fc.assert(
    fc.property(keyArb, revArb, keyArb, revArb, (k1, r1, k2, r2) => {
      const byKey = Buffer.compare(k1, k2);
      const byRev = r1.main - r2.main || r1.sub - r2.sub;
      const expected = Math.sign(byKey !== 0 ? byKey : byRev);
      const got = Buffer.compare(encodeIndexKey(escapeKey(k1), r1.main, r1.sub), encodeIndexKey(escapeKey(k2), r2.main, r2.sub));
      assert.equal(got, expected);
    }),
  );
});

test('mvcc encoding - escaping and revisions round-trip', () => {
  fc.assert(
    fc.property(keyArb, revArb, (key, rev) => {
      assert.deepEqual([...unescapeKey(escapeKey(key))], [...key]);
      assert.deepEqual(decodeRevision(encodeRevision(rev.main, rev.sub)), { ...rev });
    }),
  );
});

test('mvcc encoding - KeyValue bytes round-trip and tombstones are recognised', () => {
  const kvArb = fc.record({
    key: keyArb,
    createRevision: fc.nat({ max: 2 ** 53 - 1 }),
    modRevision: fc.integer({ min: 1, max: 2 ** 53 - 1 }),
    version: fc.nat({ max: 2 ** 40 }),
    value: fc.uint8Array({ maxLength: 300 }),
    lease: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  });
  fc.assert(
    fc.property(kvArb, (kv) => {
      const bytes = encodeKeyValue(kv);
      const back = decodeKeyValue(bytes);
      assert.deepEqual({ ...back, key: [...back.key], value: [...back.value] }, { ...kv, key: [...kv.key], value: [...kv.value] });
      assert.equal(isTombstoneBytes(bytes), false);
    }),
  );
  const tomb = encodeKeyValue({ key: Uint8Array.of(1, 0), createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n });
  assert.deepEqual([...tomb], [0x0a, 2, 1, 0]);
  assert.equal(isTombstoneBytes(tomb), true);
});
