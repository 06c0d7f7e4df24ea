// What a restarted concord makes of damaged WAL files, at the process level. A torn last record
// (a write that never fully reached the disk) is cut off with a logged repair, and only writes
// never applied — so never acknowledged — go with it. A damaged byte anywhere before the tail
// is corruption: the server refuses to start and names the segment. So does a WAL that lost
// entries the key space had applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Store } from '../../src/mvcc/index.ts';
import { decodeRequest } from '../../src/server/request.ts';
import { Wal } from '../../src/wal/index.ts';
import { RecordType, decodeEntry } from '../../src/wal/record.ts';
import type { ConcordProcess } from './concord-process.ts';
import {
  CrashClient, History, checkAgainstHistory, crashUnderLoad, segmentFiles, segmentRecords,
  startCrashConcord, walDirOf,
} from './crash-harness.ts';

const PREFIX = 'crash-wal/';

test('crash - a torn last WAL record is cut off at restart; acknowledged writes all stay', async (t) => {
  const history = new History();
  // Crash right after a WAL save, before its entries are applied: the save's records are what a
  // torn write would have damaged, and none of its writes was acknowledged.
  const point = { name: 'raftAfterSave', failpoints: 'raftAfterSave=crash@100' };
  let proc = await startCrashConcord({ failpoints: point.failpoints });
  const dataDir = proc.dataDir;
  try {
    await crashUnderLoad(proc, point, { history, prefix: PREFIX });
    const walDir = walDirOf(dataDir);
    const tail = segmentFiles(walDir).at(-1)!;
    const torn = tearLastRecord(join(walDir, tail), await appliedIndex(dataDir));
    t.diagnostic(torn.length > 0 ? `torn: the entry of ${torn.join(', ')}` : 'torn: the last record');
    proc = await startCrashConcord({ dataDir });
    // (The JSON log escapes the quotes.)
    const repaired = new RegExp(`wal: repaired segment \\\\?"${tail}\\\\?": cut torn tail`);
    assert.match(proc.logs(), repaired);
    assert.ok(existsSync(join(walDir, `${tail}.broken`)), 'the torn segment is kept as .broken');
    const client = new CrashClient(proc.endpoint);
    try {
      const revision = await checkAgainstHistory(client, history, PREFIX);
      for (const key of torn) {
        assert.equal(await client.get(key), undefined, `the torn write of "${key}" was applied`);
      }
      assert.equal(await client.put(`${PREFIX}probe`, 'after the repair'), revision + 1);
      const hash = await client.hashKV(revision + 1);
      client.close();
      assert.equal(await proc.stop(), 0);
      proc = await startCrashConcord({ dataDir });
      const again = new CrashClient(proc.endpoint);
      try {
        assert.deepEqual(await again.hashKV(revision + 1), hash);
      } finally {
        again.close();
      }
    } finally {
      client.close();
    }
  } finally {
    await proc.kill9();
    proc.cleanup();
  }
});

test('crash - a WAL damaged before its tail, or short of applied entries, stops the server', async (t) => {
  const history = new History();
  const proc = await startCrashConcord({});
  const dataDir = proc.dataDir;
  const copies = mkdtempSync(join(tmpdir(), 'concord-crash-wal-'));
  try {
    // ~700 writes fill two to three 64 KiB segments.
    const point = { name: 'a moment with several segments', killAfterAcks: 700 };
    await crashUnderLoad(proc, point, { history, prefix: PREFIX });
    const segments = segmentFiles(walDirOf(dataDir));
    assert.ok(segments.length >= 2, `only ${segments.join(', ')}`);
    const [full, tail] = [segments.at(-2)!, segments.at(-1)!];
    const corrupt = (segment: string): RegExp =>
      new RegExp(`wal: cannot open segment "${segment}": crc mismatch at \\d+`);
    const cases = [
      {
        what: 'a damaged byte in a full segment',
        damage: (walDir: string) => flipPayloadByte(join(walDir, full), 'middle'),
        refusal: corrupt(full),
      },
      {
        what: 'a damaged byte in the tail segment, valid records after it',
        damage: (walDir: string) => flipPayloadByte(join(walDir, tail), 'early'),
        refusal: corrupt(tail),
      },
      {
        // A bit flip in the last records reads as a torn tail and is cut off, but these records
        // were synced and applied: starting would reuse their indexes for new entries.
        what: 'the last applied entries torn off the tail',
        damage: async (walDir: string, copy: string) =>
          tearAppliedEntries(join(walDir, tail), await appliedIndex(copy)),
        refusal: /the key space has applied entry \d+ but the WAL ends at \d+/,
      },
    ];
    for (const [i, c] of cases.entries()) {
      await t.test(c.what, async (st) => {
        const copy = join(copies, String(i));
        cpSync(dataDir, copy, { recursive: true });
        const damaged = await c.damage(walDirOf(copy), copy);
        if (damaged !== true) return st.skip(damaged);
        let started: ConcordProcess | undefined;
        const error = await startCrashConcord({ dataDir: copy }).then(
          (p) => {
            started = p;
            return undefined;
          },
          (err: unknown) => err as Error,
        );
        await started?.kill9();
        assert.ok(error !== undefined, 'the server started on a damaged WAL');
        assert.match(error.message, /exited with 1 before it was ready/);
        assert.match(error.message, c.refusal);
      });
    }
  } finally {
    await proc.kill9();
    proc.cleanup();
    rmSync(copies, { recursive: true, force: true });
  }
});

/** The consistent index of the stopped member's key space: the last entry applied. */
async function appliedIndex(dataDir: string): Promise<number> {
  const store = Store.open(join(dataDir, 'member', 'db'));
  try {
    return store.consistentIndex;
  } finally {
    await store.close();
  }
}

/**
 * Tears the segment's last write as a crash mid-write would: zeros from the middle of its last
 * entry record to the end of the data, when that entry was never applied; else (the last save had
 * no entries) from the middle of its last record. The keys of the torn entries.
 */
function tearLastRecord(path: string, applied: number): string[] {
  const { buf, records } = segmentRecords(path);
  const last = records.at(-1)!;
  const lastEntry = records.filter((r) => r.type === RecordType.Entry).at(-1);
  const entry = lastEntry && decodeEntry(buf, lastEntry.start, lastEntry.end);
  const tearEntry = entry !== undefined && entry.index > applied && entry.data.length > 0;
  const from = tearEntry ? lastEntry! : last;
  const cut = from.start + Math.floor((from.end - from.start) / 2);
  buf.fill(0, cut, last.end);
  writeFileSync(path, buf);
  if (!tearEntry) return [];
  const req = decodeRequest(entry.data);
  if (req.kind === 'put') return [Buffer.from(req.request.key).toString()];
  if (req.kind !== 'txn') return [];
  const puts = req.request.success.flatMap((op) => op.requestPut ?? []);
  return puts.map((put) => Buffer.from(put.key).toString());
}

/**
 * Zeros the tail segment from the middle of the entry record at index `applied` to its data's
 * end; true, or why it cannot: the crash came just after a cut or a snapshot (rarely).
 */
async function tearAppliedEntries(path: string, applied: number): Promise<true | string> {
  const { buf, records } = segmentRecords(path);
  const entry = records.find(
    (r) => r.type === RecordType.Entry && decodeEntry(buf, r.start, r.end)?.index === applied,
  );
  if (entry === undefined) return `entry ${applied} is not in the tail segment`;
  const marks = await Wal.readSnapshotMarks(dirname(path), { log: () => undefined });
  if (marks.some((m) => m.index >= applied)) return `a snapshot covers entry ${applied}`;
  buf.fill(0, entry.start + Math.floor((entry.end - entry.start) / 2), records.at(-1)!.end);
  writeFileSync(path, buf);
  return true;
}

/** Flips a byte inside the payload of an entry record: the middle one, or the second one. */
function flipPayloadByte(path: string, which: 'middle' | 'early'): true | string {
  const { buf, records } = segmentRecords(path);
  const entries = records.filter((r) => r.type === RecordType.Entry);
  if (entries.length < 3) return `only ${entries.length} entries in the segment`;
  const record = which === 'middle' ? entries[Math.floor(entries.length / 2)]! : entries[1]!;
  const at = record.start + Math.floor((record.end - record.start) / 2);
  buf[at] = buf[at]! ^ 0xff;
  writeFileSync(path, buf);
  return true;
}
