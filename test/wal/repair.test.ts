// Torn and corrupt tails are cut off (with one log line) and the WAL carries on; corruption before
// the tail, or in a segment that is not the last, is refused with the segment name and offset.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { Wal, WalErrorCode, isWalError, segmentName } from '../../src/wal/index.ts';
import { collectLog, entries, entry, ids, removeDir, tempDir } from './helpers.ts';

const SEGMENT_BYTES = 64 * 1024;
const OPTIONS = { segmentBytes: SEGMENT_BYTES };
const FIRST = segmentName(0, 0);

/** The offsets of the records in a segment image, and the offset after the last one. */
function recordOffsets(buf: Buffer): number[] {
  const offsets: number[] = [];
  let at = 0;
  const isEnd = (at: number): boolean =>
    at + 9 > buf.length || buf.readUInt32LE(at + 4) + buf[at + 8]! + buf.readUInt32LE(at) === 0;
  while (!isEnd(at)) {
    offsets.push(at);
    at += 9 + buf.readUInt32LE(at + 4);
  }
  offsets.push(at);
  return offsets;
}

function dataEnd(buf: Buffer): number {
  return recordOffsets(buf).at(-1)!;
}

/** A WAL holding entries 1..5, then entry 6 as the last record; the segment before and after. */
async function walWithLastRecord(
  dir: string,
): Promise<{ start: number; end: number; image: Buffer }> {
  const wal = await Wal.create(dir, Buffer.from('m'), OPTIONS);
  await wal.save({ term: 1, vote: 1n, commit: 4 }, entries(1, 4, 1), { sync: true });
  await wal.save(undefined, entries(5, 5, 1), { sync: true });
  const start = dataEnd(fs.readFileSync(join(dir, FIRST)));
  await wal.save(undefined, [entry(6, 1, 40)], { sync: true });
  await wal.close();
  const image = fs.readFileSync(join(dir, FIRST));
  const end = dataEnd(image);
  return { start, end, image };
}

async function replayIds(dir: string, log: (msg: string) => void): Promise<string[]> {
  const { wal, replay } = await Wal.open(dir, { ...OPTIONS, log });
  await wal.close();
  return ids(replay.entries);
}

/** After a repair: a later save works, and replay shows the repaired log plus that save. */
async function saveAfterRepair(dir: string): Promise<void> {
  const opened = await Wal.open(dir, { ...OPTIONS, log: () => undefined });
  const hs = { term: 2, vote: 2n, commit: 5 };
  await opened.wal.save(hs, [entry(6, 2), entry(7, 2)], { sync: true });
  await opened.wal.close();
  const { wal, replay } = await Wal.open(dir, OPTIONS);
  await wal.close();
  assert.deepEqual(ids(replay.entries), ['1/1', '2/1', '3/1', '4/1', '5/1', '6/2', '7/2']);
  assert.deepEqual(replay.hardState, { term: 2, vote: 2n, commit: 5 });
}

test('wal - a last record torn at any byte offset is cut off, and saves carry on', async () => {
  const dir = tempDir();
  try {
    const { start, end, image } = await walWithLastRecord(dir);
    for (const mode of ['zeroed', 'truncated', 'garbage'] as const) {
      for (let cut = start; cut < end; cut++) {
        const torn = Buffer.from(image);
        if (mode === 'garbage') for (let i = cut; i < end; i++) torn[i] = (i * 131 + 7) & 0xff || 1;
        else torn.fill(0, cut, end);
        fs.writeFileSync(join(dir, FIRST), mode === 'truncated' ? torn.subarray(0, cut) : torn);
        const { lines, log } = collectLog();
        const label = `${mode} at ${cut}`;
        assert.deepEqual(await replayIds(dir, log), ids(entries(1, 5, 1)), label);
        // A record whose header never reached the disk needs no repair: it reads as the end.
        assert.equal(lines.length, cut === start && mode !== 'garbage' ? 0 : 1, label);
        const repaired = /^wal: repaired segment ".*": cut torn tail at /;
        if (lines.length === 1) assert.match(lines[0]!, repaired);
        assert.deepEqual(await replayIds(dir, log), ids(entries(1, 5, 1)), `${label}, again`);
        assert.equal(lines.length <= 1, true, `${label}: the second open found nothing to repair`);
      }
    }
    await saveAfterRepair(dir);
    assert.ok(fs.existsSync(join(dir, `${FIRST}.broken`)), 'a copy of the torn segment is kept');
  } finally {
    removeDir(dir);
  }
});

test('wal - a bad crc on the last records of the last segment is repaired', async () => {
  const dir = tempDir();
  try {
    const { start, end, image } = await walWithLastRecord(dir);
    const broken = Buffer.from(image);
    broken[end - 3]! ^= 0x10; // entry 6
    broken[start - 2]! ^= 0x01; // the record before the last (the hard state)
    fs.writeFileSync(join(dir, FIRST), broken);
    const { lines, log } = collectLog();
    assert.deepEqual(await replayIds(dir, log), ids(entries(1, 4, 1)));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /crc mismatch/);
  } finally {
    removeDir(dir);
  }
});

test('wal - a bad record followed by good ones is refused, naming segment and offset', async () => {
  const dir = tempDir();
  try {
    const { start, image } = await walWithLastRecord(dir);
    const flipped = Buffer.from(image);
    flipped[start - 2]! ^= 0x01; // entry 5's data; entry 6 after it is intact
    fs.writeFileSync(join(dir, FIRST), flipped);
    const recordStart = start - (9 + 17 + 4);
    await assert.rejects(Wal.open(dir, OPTIONS), (err) =>
      isWalError(err, WalErrorCode.Corrupt) &&
      err.message === `wal: cannot open segment "${FIRST}": crc mismatch at ${recordStart}` &&
      err.offset === recordStart);
  } finally {
    removeDir(dir);
  }
});

test('wal - a corrupt length before the tail is refused, never believed or allocated', async () => {
  const dir = tempDir();
  try {
    const { start, image } = await walWithLastRecord(dir);
    const recordStart = start - (9 + 17 + 4);
    for (const length of [0xffff_fff0, 0x0fff_ffff, 9000, 31, 3]) {
      const bad = Buffer.from(image);
      bad.writeUInt32LE(length, recordStart + 4);
      fs.writeFileSync(join(dir, FIRST), bad);
      await assert.rejects(Wal.open(dir, OPTIONS), (err) =>
        isWalError(err, WalErrorCode.Corrupt) && err.offset === recordStart, `length ${length}`);
    }
  } finally {
    removeDir(dir);
  }
});

test('wal - an absurd length in the last record is a torn tail, not an allocation', async () => {
  const dir = tempDir();
  try {
    const { start, image } = await walWithLastRecord(dir);
    const bad = Buffer.from(image);
    bad.writeUInt32LE(0xffff_ffff, start + 4);
    fs.writeFileSync(join(dir, FIRST), bad);
    const { lines, log } = collectLog();
    assert.deepEqual(await replayIds(dir, log), ids(entries(1, 5, 1)));
    assert.match(lines[0]!, /record length 4294967295 out of bounds/);
  } finally {
    removeDir(dir);
  }
});

test('wal - a bad record in a large preallocated segment is judged on the whole file', async () => {
  const dir = tempDir();
  try {
    const options = { segmentBytes: 4 << 20, log: () => undefined };
    const wal = await Wal.create(dir, Buffer.from('m'), options);
    await wal.save(undefined, entries(1, 3, 1, 600_000), { sync: true });
    await wal.save(undefined, entries(4, 4, 1, 100), { sync: true });
    await wal.close();
    const path = join(dir, FIRST);
    const image = fs.readFileSync(path);
    const offsets = recordOffsets(image);
    const lastRecord = offsets.at(-2)!;
    const tail = Buffer.from(image);
    tail[lastRecord + 40]! ^= 1;
    fs.writeFileSync(path, tail);
    const opened = await Wal.open(dir, options);
    await opened.wal.close();
    assert.deepEqual(ids(opened.replay.entries), ['1/1', '2/1', '3/1']);
    const middle = Buffer.from(image);
    middle[offsets[2]! + 300_000]! ^= 1; // inside entry 1 or 2, well before the tail
    fs.writeFileSync(path, middle);
    await assert.rejects(Wal.open(dir, options), (err) => isWalError(err, WalErrorCode.Corrupt));
  } finally {
    removeDir(dir);
  }
});

test('wal - corruption in a segment that is not the last is refused, even at its end', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, Buffer.from('m'), { segmentBytes: 1024 });
    for (let i = 1; i <= 20; i++) await wal.save(undefined, [entry(i, 1, 100)], { sync: false });
    const names = wal.segmentNames();
    await wal.close();
    assert.ok(names.length >= 2);
    const path = join(dir, names[0]!);
    const image = fs.readFileSync(path);
    image[image.length - 1]! ^= 0x40; // the very last byte of the first segment
    fs.writeFileSync(path, image);
    await assert.rejects(Wal.open(dir, { segmentBytes: 1024 }), (err) =>
      isWalError(err, WalErrorCode.Corrupt) &&
      err.message.startsWith(`wal: cannot open segment "${names[0]}"`));
  } finally {
    removeDir(dir);
  }
});

test('wal - a torn write whose later pages reached the disk is still a torn tail', async () => {
  const dir = tempDir();
  try {
    const wal = await Wal.create(dir, Buffer.from('m'), OPTIONS);
    await wal.save(undefined, entries(1, 2, 1), { sync: true });
    const start = dataEnd(fs.readFileSync(join(dir, FIRST)));
    await wal.save(undefined, [entry(3, 1, 5000), entry(4, 1, 100)], { sync: false });
    await wal.close();
    const image = fs.readFileSync(join(dir, FIRST));
    // The page in the middle of entry 3 was lost; entry 4 (in a later page) survived.
    const page = Math.ceil((start + 1000) / 4096) * 4096;
    image.fill(0, page, page + 4096);
    fs.writeFileSync(join(dir, FIRST), image);
    const { lines, log } = collectLog();
    assert.deepEqual(await replayIds(dir, log), ['1/1', '2/1']);
    assert.equal(lines.length, 1);
  } finally {
    removeDir(dir);
  }
});
