// Property tests of the record codecs: any entry, hard state or snapshot mark decodes to itself,
// and sealed records verify along the chain while any single flipped bit breaks it.
import assert from 'node:assert/strict';
import test from 'node:test';
import fc from 'fast-check';
import { EntryType } from '../../src/raft/messages.ts';
import {
  RECORD_HEADER_BYTES, decodeEntry, decodeHardState, decodeSnapshotMark, entryRecordBytes,
  putEntry, putHardState, putSnapshotMark, sealRecords, snapshotMarkBytes,
} from '../../src/wal/record.ts';
import { readRecord } from '../../src/wal/segment.ts';

const PLAIN = { noNullPrototype: true };
const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const id = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const entryArb = fc.record({
  index: u53,
  term: u53,
  type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
  data: fc.uint8Array({ maxLength: 300 }),
}, PLAIN);
const markArb = fc.record({
  index: u53,
  term: u53,
  confState: fc.record({
    voters: fc.array(id, { maxLength: 5 }),
    learners: fc.array(id, { maxLength: 3 }),
    votersOutgoing: fc.array(id, { maxLength: 5 }),
    learnersNext: fc.array(id, { maxLength: 3 }),
    autoLeave: fc.boolean(),
  }, PLAIN),
}, PLAIN);

test('wal record - entries, hard states and snapshot marks decode to what was encoded', () => {
  fc.assert(
    fc.property(entryArb, u53, id, u53, markArb, (entry, term, vote, commit, mark) => {
      const hs = { term, vote, commit };
      const size = entryRecordBytes(entry) + RECORD_HEADER_BYTES * 2 + 24 + snapshotMarkBytes(mark);
      const buf = Buffer.alloc(size);
      const afterEntry = putEntry(buf, 0, entry);
      const afterHs = putHardState(buf, afterEntry, hs);
      assert.equal(putSnapshotMark(buf, afterHs, mark), size);
      const h = RECORD_HEADER_BYTES;
      assert.deepEqual(decodeEntry(buf, h, afterEntry), entry);
      assert.deepEqual(decodeHardState(buf, afterEntry + h, afterHs), hs);
      assert.deepEqual(decodeSnapshotMark(buf, afterHs + h, size), mark);
    }),
  );
});

test('wal record - sealed records verify along the chain and any flipped bit is caught', () => {
  fc.assert(
    fc.property(fc.array(entryArb, { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat(), (
      list, seed, pick,
    ) => {
      const buf = Buffer.alloc(list.reduce((n, e) => n + entryRecordBytes(e), 0));
      let at = 0;
      for (const e of list) at = putEntry(buf, at, e);
      sealRecords(buf, 0, buf.length, seed >>> 0);
      let crc = seed >>> 0;
      for (let offset = 0; offset < buf.length;) {
        const read = readRecord(buf, offset, crc, 1 << 20);
        assert.equal(read.kind, 'ok');
        if (read.kind !== 'ok') return;
        crc = read.crc;
        offset = read.end;
      }
      const bit = pick % (buf.length * 8);
      buf[bit >> 3]! ^= 1 << (bit & 7);
      let offset = 0;
      crc = seed >>> 0;
      let caught = false;
      while (offset < buf.length && !caught) {
        const read = readRecord(buf, offset, crc, 1 << 20);
        if (read.kind !== 'ok') caught = true;
        else [crc, offset] = [read.crc, read.end];
      }
      assert.ok(caught, `bit ${bit} flipped unnoticed`);
    }),
  );
});
