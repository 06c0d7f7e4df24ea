// The WAL's write and replay contract: round trips, Raft truncation, snapshot marks, segments,
// preallocation, ordering of concurrent saves, bounds and the errors of a bad directory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { EntryType, emptyConfState } from '../../src/raft/messages.ts';
import type { Entry } from '../../src/raft/messages.ts';
import { Wal, WalErrorCode, isWalError, segmentName } from '../../src/wal/index.ts';
import { collectLog, entries, entry, ids, removeDir, tempDir } from './helpers.ts';

const META = Buffer.from('node=1;cluster=7');

test('wal - hard state and entries replay as saved, with bigint vote and binary data', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META);
    const binary: Entry = {
      index: 1, term: 1, type: EntryType.ConfChange, data: new Uint8Array([0, 255, 0, 1, 128]),
    };
    const vote = 0xfedc_ba98_7654_3210n;
    await wal.save({ term: 1, vote, commit: 0 }, [binary], { sync: true });
    await wal.save({ term: 2, vote, commit: 1 }, [entry(2, 2), entry(3, 2, 1000)], { sync: false });
    await wal.close();
    const { wal: reopened, replay } = await Wal.open(dir);
    await reopened.close();
    assert.deepEqual(Buffer.from(replay.metadata), META);
    assert.deepEqual(replay.hardState, { term: 2, vote, commit: 1 });
    assert.deepEqual(replay.entries, [binary, entry(2, 2), entry(3, 2, 1000)]);
    assert.deepEqual(replay.snapshotMarks, [{ index: 0, term: 0, confState: emptyConfState() }]);
  } finally {
    removeDir(dir);
  }
});

test('wal - a save at a lower index overwrites later entries, as a Raft truncation', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META);
    await wal.save(undefined, entries(1, 10, 1), { sync: true });
    await wal.save(undefined, entries(6, 7, 2), { sync: true });
    await wal.save(undefined, entries(8, 8, 3), { sync: true });
    assert.equal(wal.lastIndex, 8);
    await wal.close();
    const { wal: reopened, replay } = await Wal.open(dir);
    await reopened.close();
    assert.deepEqual(ids(replay.entries), [
      '1/1', '2/1', '3/1', '4/1', '5/1', '6/2', '7/2', '8/3',
    ]);
  } finally {
    removeDir(dir);
  }
});

test('wal - replay from a snapshot mark returns only the entries after it', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META);
    await wal.save({ term: 1, vote: 1n, commit: 5 }, entries(1, 6, 1), { sync: true });
    const confState = { ...emptyConfState(), voters: [1n, 2n, 3n], learners: [9n] };
    await wal.saveSnapshotMark({ index: 5, term: 1, confState });
    await wal.save(undefined, entries(7, 8, 1), { sync: true });
    await wal.close();
    const { wal: reopened, replay } = await Wal.open(dir, { fromSnapshot: { index: 5, term: 1 } });
    await reopened.close();
    assert.deepEqual(ids(replay.entries), ['6/1', '7/1', '8/1']);
    assert.deepEqual(replay.snapshotMarks.at(-1), { index: 5, term: 1, confState });
    assert.deepEqual(await Wal.readSnapshotMarks(dir), replay.snapshotMarks);
  } finally {
    removeDir(dir);
  }
});

test('wal - opening from an unmarked snapshot, or one of another term, is refused', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META);
    await wal.save(undefined, entries(1, 6, 1), { sync: true });
    await wal.saveSnapshotMark({ index: 5, term: 1, confState: emptyConfState() });
    await wal.close();
    await assert.rejects(Wal.open(dir, { fromSnapshot: { index: 4, term: 1 } }),
      (err) => isWalError(err, WalErrorCode.SnapshotNotFound));
    await assert.rejects(Wal.open(dir, { fromSnapshot: { index: 5, term: 2 } }),
      (err) => isWalError(err, WalErrorCode.SnapshotMismatch));
  } finally {
    removeDir(dir);
  }
});

test('wal - saves past the segment size cut new segments, and replay crosses them', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META, { segmentBytes: 4096 });
    for (let i = 1; i <= 100; i += 5) {
      const hs = { term: 1, vote: 2n, commit: i };
      await wal.save(hs, entries(i, i + 4, 1, 200), { sync: i % 2 === 0 });
    }
    const names = wal.segmentNames();
    assert.ok(names.length > 5, `expected several segments, got ${names.length}`);
    assert.equal(names[0], segmentName(0, 0));
    await wal.close();
    const { wal: reopened, replay } = await Wal.open(dir, { segmentBytes: 4096 });
    assert.deepEqual(ids(replay.entries), ids(entries(1, 100, 1)));
    assert.deepEqual(replay.hardState, { term: 1, vote: 2n, commit: 96 });
    // Appending continues the chain in the tail segment, and a second replay sees it all.
    await reopened.save(undefined, entries(101, 101, 2), { sync: true });
    await reopened.close();
    const again = await Wal.open(dir, { segmentBytes: 4096 });
    await again.wal.close();
    assert.equal(again.replay.entries.length, 101);
  } finally {
    removeDir(dir);
  }
});

test('wal - a new segment is named by the next index, repeating metadata, hard state', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META);
    await wal.save({ term: 3, vote: 1n, commit: 7 }, entries(1, 7, 3), { sync: true });
    await wal.saveSnapshotMark({ index: 7, term: 3, confState: emptyConfState() });
    await wal.save(undefined, entries(8, 8, 3), { sync: true });
    await wal.cut();
    assert.deepEqual(wal.segmentNames(), [segmentName(0, 0), segmentName(1, 9)]);
    await wal.save(undefined, entries(9, 9, 3), { sync: true });
    await wal.saveSnapshotMark({ index: 9, term: 3, confState: emptyConfState() });
    await wal.close();
    // Only the new segment is read when replaying from index 9: its header carries the rest.
    fs.rmSync(join(dir, segmentName(0, 0)));
    const { wal: reopened, replay } = await Wal.open(dir, { fromSnapshot: { index: 9, term: 3 } });
    assert.deepEqual(replay.entries, []);
    await reopened.close();
    assert.deepEqual(Buffer.from(replay.metadata), META);
    assert.deepEqual(replay.hardState, { term: 3, vote: 1n, commit: 7 });
  } finally {
    removeDir(dir);
  }
});

test('wal - a preallocated tail is read to its last record and appended after it', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META, { segmentBytes: 1 << 20 });
    await wal.save(undefined, entries(1, 3, 1), { sync: true });
    await wal.close();
    const path = join(dir, segmentName(0, 0));
    assert.equal(fs.statSync(path).size, 1 << 20);
    const first = await Wal.open(dir, { segmentBytes: 1 << 20 });
    assert.equal(fs.statSync(path).size, 1 << 20);
    await first.wal.save(undefined, entries(4, 5, 1), { sync: true });
    await first.wal.close();
    const second = await Wal.open(dir, { segmentBytes: 1 << 20 });
    await second.wal.close();
    assert.deepEqual(ids(second.replay.entries), ids(entries(1, 5, 1)));
  } finally {
    removeDir(dir);
  }
});

test('wal - concurrent saves are written whole, one after another, in call order', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META, { segmentBytes: 8192 });
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 200; i += 2) {
      const hs = { term: 1, vote: 0n, commit: i };
      saves.push(wal.save(hs, entries(i, i + 1, 1, 64), { sync: i % 10 === 1 }));
    }
    await Promise.all(saves);
    await wal.close();
    const { wal: reopened, replay } = await Wal.open(dir, { segmentBytes: 8192 });
    await reopened.close();
    assert.deepEqual(ids(replay.entries), ids(entries(1, 200, 1)));
    assert.equal(replay.hardState.commit, 199);
  } finally {
    removeDir(dir);
  }
});

test('wal - create refuses a WAL; open refuses a non-WAL or a missing segment', async () => {
  const dir = tempDir();
  try {
    await assert.rejects(Wal.open(dir), (err) =>
      isWalError(err, WalErrorCode.NotFound) && /no segment files/.test(err.message));
    const wal = await Wal.create(dir, META, { segmentBytes: 512 });
    await assert.rejects(Wal.create(dir, META), (err) => isWalError(err, WalErrorCode.Exists));
    for (let i = 1; i <= 30; i++) await wal.save(undefined, [entry(i, 1, 100)], { sync: false });
    const names = wal.segmentNames();
    await wal.close();
    assert.ok(names.length >= 3);
    fs.rmSync(join(dir, names[1]!));
    await assert.rejects(Wal.open(dir), (err) =>
      isWalError(err, WalErrorCode.SequenceGap) && err.message.includes(names[2]!));
  } finally {
    removeDir(dir);
  }
});

test('wal - a record over the size limit is refused before anything is written', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META, { recordBytesMax: 1024 });
    await assert.rejects(wal.save(undefined, [entry(1, 1, 2000)], { sync: true }),
      (err) => isWalError(err, WalErrorCode.RecordTooLarge) && /limit of 1024/.test(err.message));
    await wal.save(undefined, [entry(1, 1, 500)], { sync: true });
    await wal.close();
    await wal.close();
    await assert.rejects(wal.save(undefined, [entry(2, 1)], { sync: true }),
      (err) => isWalError(err, WalErrorCode.Closed));
    const { wal: reopened, replay } = await Wal.open(dir, { recordBytesMax: 1024 });
    await reopened.close();
    assert.deepEqual(ids(replay.entries), ['1/1']);
  } finally {
    removeDir(dir);
  }
});

test('wal - purge removes released segments only, never the latest snapshot\'s', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META, { segmentBytes: 1024 });
    for (let i = 1; i <= 40; i++) await wal.save(undefined, [entry(i, 1, 200)], { sync: false });
    const before = wal.segmentNames();
    assert.ok(before.length >= 8);
    assert.deepEqual(await wal.purge({ maxSegments: 1 }), [], 'nothing is released yet');
    // Releasing past the latest snapshot mark is clamped to it: only segments before index 20's.
    await wal.saveSnapshotMark({ index: 20, term: 1, confState: emptyConfState() });
    wal.releaseTo(40);
    const removed = await wal.purge({ maxSegments: 1 });
    const kept = wal.segmentNames();
    assert.deepEqual([...removed, ...kept], before);
    const firstKept = Number.parseInt(kept[0]!.slice(17, 33), 16);
    assert.ok(firstKept <= 20, `segment ${kept[0]} must still hold what follows index 20`);
    await wal.close();
    const { wal: reopened, replay } = await Wal.open(dir, { fromSnapshot: { index: 20, term: 1 } });
    await reopened.close();
    assert.deepEqual(ids(replay.entries), ids(entries(21, 40, 1)));
  } finally {
    removeDir(dir);
  }
});

test('wal - snapshot marks above the saved commit index are not offered for loading', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, META);
    await wal.save({ term: 1, vote: 1n, commit: 3 }, entries(1, 5, 1), { sync: true });
    await wal.saveSnapshotMark({ index: 3, term: 1, confState: emptyConfState() });
    await wal.saveSnapshotMark({ index: 5, term: 1, confState: emptyConfState() });
    await wal.close();
    const marks = await Wal.readSnapshotMarks(dir);
    assert.deepEqual(marks.map((m) => m.index), [0, 3]);
    const { log, lines } = collectLog();
    const opened = await Wal.open(dir, { log });
    await opened.wal.close();
    assert.deepEqual(lines, []);
  } finally {
    removeDir(dir);
  }
});
