// Micro-benchmark of the WAL's hot path: saves of 128 entries × 256 bytes plus a hard state, each
// synced (one write + one fdatasync per save), as the member loop issues them per Ready.
// Usage: npx tsx bench/wal.ts [saves=2000] [dir=os.tmpdir()]  (WAL_BENCH_NOSYNC=1: no fdatasync)
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../src/raft/messages.ts';
import { EntryType } from '../src/raft/messages.ts';
import { Wal } from '../src/wal/index.ts';

const saves = Number(process.argv[2] ?? 2000);
const sync = process.env.WAL_BENCH_NOSYNC === undefined;
const base = process.argv[3] ?? os.tmpdir();
const ENTRIES_PER_SAVE = 128;
const ENTRY_BYTES = 256;

const dir = fs.mkdtempSync(join(base, 'concord-wal-bench-'));
try {
  const wal = await Wal.create(dir, Buffer.from('bench'));
  const payload = new Uint8Array(ENTRY_BYTES).fill(7);
  const batch: Entry[] = Array.from({ length: ENTRIES_PER_SAVE }, () => ({
    index: 0, term: 1, type: EntryType.Normal, data: payload,
  }));
  let index = 0;
  const run = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      for (const entry of batch) entry.index = ++index;
      await wal.save({ term: 1, vote: 1n, commit: index }, batch, { sync });
    }
  };
  await run(Math.min(100, saves)); // warm up
  const started = process.hrtime.bigint();
  await run(saves);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await wal.close();
  const bytes = saves * ENTRIES_PER_SAVE * ENTRY_BYTES;
  console.log(
    `wal: ${saves} ${sync ? 'synced' : 'unsynced'} saves ` +
      `of ${ENTRIES_PER_SAVE} × ${ENTRY_BYTES} B ` +
      `in ${seconds.toFixed(2)} s: ${Math.round(saves / seconds)} saves/s, ` +
      `${(bytes / seconds / 1e6).toFixed(1)} MB/s payload, ` +
      `${Math.round((saves * ENTRIES_PER_SAVE) / seconds)} entries/s`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
