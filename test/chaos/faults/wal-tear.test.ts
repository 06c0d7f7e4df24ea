// Tearing the WAL tail cuts only bytes written after the mark, inside the newest segment, and
// leaves alone what may have been acknowledged. On synthetic preallocated segments; tears of
// real etcd and concord WALs, and their repair, are in test/chaos/cluster.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tearWalTail, walDir, walTail } from './wal-tear.ts';

const SEG0 = '0000000000000000-0000000000000000.wal';
const SEG1 = '0000000000000001-0000000000000020.wal';

/** A data dir whose WAL holds segments of `data` bytes (non-zero) in 4 KiB of zeros each. */
function dataDir(segments: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-tear-'));
  mkdirSync(walDir(dir), { recursive: true });
  for (const [name, data] of Object.entries(segments)) writeSegment(dir, name, data);
  writeFileSync(join(walDir(dir), '0.tmp'), Buffer.alloc(4096, 7)); // etcd's spare file: ignored
  return dir;
}

function writeSegment(dir: string, name: string, data: number): void {
  const buf = Buffer.alloc(4096);
  buf.fill(0xab, 0, data);
  writeFileSync(join(walDir(dir), name), buf);
}

test('chaos faults - walTail finds the newest segment and where its data ends', (t) => {
  const dir = dataDir({ [SEG0]: 900, [SEG1]: 120 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(walTail(dir), { segment: SEG1, dataBytes: 120 });
  assert.equal(walTail(join(dir, 'nowhere')), undefined);
});

test('chaos faults - a tear cuts a few bytes of what was written since the mark', (t) => {
  const dir = dataDir({ [SEG0]: 500 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const since = walTail(dir);
  writeSegment(dir, SEG0, 540);
  assert.deepEqual(tearWalTail(dir, { since }), {
    torn: true, segment: SEG0, dataBytes: 540, keptBytes: 537,
  });
  assert.equal(statSync(join(walDir(dir), SEG0)).size, 537);
  assert.equal(readFileSync(join(walDir(dir), SEG0)).at(-1), 0xab);
});

test('chaos faults - a tear never reaches bytes from before the mark', (t) => {
  const dir = dataDir({ [SEG0]: 500 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const since = walTail(dir);
  assert.deepEqual(tearWalTail(dir, { since }), {
    torn: false, reason: `nothing written to ${SEG0} since the mark`,
  });
  writeSegment(dir, SEG0, 502);
  const result = tearWalTail(dir, { since, bytes: 10 });
  assert.deepEqual(result, { torn: true, segment: SEG0, dataBytes: 502, keptBytes: 500 });
});

test('chaos faults - in a segment begun after the mark, the header stays whole', (t) => {
  const dir = dataDir({ [SEG0]: 500 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const since = walTail(dir);
  writeSegment(dir, SEG1, 66);
  assert.deepEqual(tearWalTail(dir, { since, bytes: 5 }), {
    torn: true, segment: SEG1, dataBytes: 66, keptBytes: 64,
  });
  writeSegment(dir, SEG1, 40);
  assert.equal(tearWalTail(dir, { since }).torn, false);
  assert.equal(statSync(join(walDir(dir), SEG0)).size, 4096, 'the older segment is untouched');
});

test('chaos faults - a WAL created after the mark is new from its header on', (t) => {
  const dir = dataDir({});
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const since = walTail(dir);
  assert.equal(since, undefined);
  assert.equal(tearWalTail(dir, { since }).torn, false, 'no segment at all');
  writeSegment(dir, SEG0, 200);
  assert.deepEqual(tearWalTail(dir, { since }), {
    torn: true, segment: SEG0, dataBytes: 200, keptBytes: 197,
  });
  assert.throws(() => tearWalTail(dir, { since, bytes: 0 }), /cannot tear 0 bytes/);
});
