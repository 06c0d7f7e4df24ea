// Snapshot files: atomic save, load of the newest file that verifies (corrupt ones renamed
// `.broken` and reported), the newest one the WAL marked, and purge keeping the newest N.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'node:test';
import type { Snapshot } from '../../src/raft/messages.ts';
import { emptyConfState } from '../../src/raft/messages.ts';
import {
  Snapshotter, WalErrorCode, isWalError, snapshotFileName,
} from '../../src/wal/index.ts';
import { collectLog, removeDir, tempDir } from './helpers.ts';

function snapshot(index: number, term: number, size = 64): Snapshot {
  const data = new Uint8Array(size).map((_, i) => (i * 31 + index) & 0xff);
  const voters = [1n, 0xffff_ffff_ffff_fff1n];
  const confState = { ...emptyConfState(), voters, learnersNext: [4n] };
  return { data, metadata: { index, term, confState } };
}

const isCorrupt = (err: unknown): boolean => isWalError(err, WalErrorCode.SnapshotCorrupt);

function plain(s: Snapshot): Snapshot {
  return { data: new Uint8Array(s.data), metadata: s.metadata };
}

test('snap - a saved snapshot loads back equal, from a file named by term and index', async () => {
  const dir = join(tempDir(), 'snap');
  try {
    const snapshotter = new Snapshotter(dir);
    assert.equal(await snapshotter.loadNewest(), undefined, 'no directory yet: no snapshot');
    const name = await snapshotter.save(snapshot(42, 3, 10_000));
    assert.equal(name, '0000000000000003-000000000000002a.snap');
    assert.deepEqual(fs.readdirSync(dir), [name], 'no temporary file is left');
    assert.deepEqual(plain((await snapshotter.loadNewest())!), snapshot(42, 3, 10_000));
    await assert.rejects(snapshotter.save(snapshot(0, 0)), isCorrupt);
  } finally {
    removeDir(dirname(dir));
  }
});

test('snap - the newest is the highest term, then the highest index', async () => {
  const dir = tempDir();
  try {
    const snapshotter = new Snapshotter(dir);
    for (const [index, term] of [[100, 1], [20, 2], [30, 2], [5, 1]] as const) {
      await snapshotter.save(snapshot(index, term));
    }
    assert.deepEqual(await snapshotter.list(), [
      snapshotFileName(2, 30), snapshotFileName(2, 20),
      snapshotFileName(1, 100), snapshotFileName(1, 5),
    ]);
    assert.equal((await snapshotter.loadNewest())!.metadata.index, 30);
  } finally {
    removeDir(dir);
  }
});

test('snap - a corrupt newest file is reported, renamed .broken, and the next loaded', async () => {
  const dir = tempDir();
  try {
    const { lines, log } = collectLog();
    const snapshotter = new Snapshotter(dir, { log });
    await snapshotter.save(snapshot(10, 1));
    const newest = await snapshotter.save(snapshot(20, 1));
    const truncated = await snapshotter.save(snapshot(30, 1));
    const bytes = fs.readFileSync(join(dir, newest));
    bytes[bytes.length - 1]! ^= 1;
    fs.writeFileSync(join(dir, newest), bytes);
    fs.truncateSync(join(dir, truncated), 7);
    assert.equal((await snapshotter.loadNewest())!.metadata.index, 10);
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^snap: cannot load "0{15}1-0{14}1e\.snap": file too short/);
    assert.match(lines[1]!, /crc mismatch; renamed to ".*\.snap\.broken"$/);
    assert.ok(fs.existsSync(join(dir, `${newest}.broken`)));
    assert.deepEqual(await snapshotter.list(), [snapshotFileName(1, 10)]);
    await assert.rejects(snapshotter.load(`${newest}.broken`), isCorrupt);
  } finally {
    removeDir(dir);
  }
});

test('snap - the newest available snapshot is the newest one the WAL marked', async () => {
  const dir = tempDir();
  try {
    const snapshotter = new Snapshotter(dir);
    for (const index of [10, 20, 30]) await snapshotter.save(snapshot(index, 1));
    const marks = [{ index: 0, term: 0 }, { index: 10, term: 1 }, { index: 20, term: 1 }];
    assert.equal((await snapshotter.loadNewestAvailable(marks))!.metadata.index, 20);
    assert.equal(await snapshotter.loadNewestAvailable([{ index: 20, term: 2 }]), undefined);
  } finally {
    removeDir(dir);
  }
});

test('snap - purge keeps the newest N files and removes stray temporaries', async () => {
  const dir = tempDir();
  try {
    const snapshotter = new Snapshotter(dir);
    for (let index = 1; index <= 8; index++) await snapshotter.save(snapshot(index, 1));
    fs.writeFileSync(join(dir, `${snapshotFileName(1, 9)}.tmp`), 'half');
    const removed = await snapshotter.purge({ maxSnapshots: 5 });
    assert.deepEqual(removed, [
      snapshotFileName(1, 3), snapshotFileName(1, 2), snapshotFileName(1, 1),
      `${snapshotFileName(1, 9)}.tmp`,
    ]);
    assert.deepEqual(await snapshotter.list(), [8, 7, 6, 5, 4].map((i) => snapshotFileName(1, i)));
  } finally {
    removeDir(dir);
  }
});
