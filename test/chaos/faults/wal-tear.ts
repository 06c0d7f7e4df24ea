// A torn last WAL record, as a crash in the middle of a write leaves it: the newest segment cut
// short inside its last record. Works on etcd's and concord's WAL alike (both keep
// `<data-dir>/member/wal/<seq:016x>-<index:016x>.wal`, preallocated and zero-filled past the data),
// without parsing records: the data ends at the last non-zero byte, and the file is truncated a
// few bytes before it. Both servers repair such a tail at start (etcd: io.ErrUnexpectedEOF in
// the last segment → wal.Repair; concord: "wal: repaired segment … cut torn tail").
//
// NB: only bytes nobody has seen acknowledged may be torn. A write is torn only by a crash before
// its fsync returned, so before the member acted on it (answered a vote, acknowledged entries
// to the leader); tearing a record some peer counted on loses a write Raft assumes durable and
// makes etcd panic ("tocommit(N) is out of range"). So the caller measures the tail (`walTail`)
// before a stretch in which the member can acknowledge nothing, and `tearWalTail` cuts only
// bytes written after that mark.
import { closeSync, fstatSync, openSync, readdirSync, readSync, truncateSync } from 'node:fs';
import { join } from 'node:path';

/** Where a WAL's data ends: the newest segment and the offset after its last non-zero byte. */
export interface WalTail {
  segment: string;
  dataBytes: number;
}

/** What `tearWalTail` did. */
export type TearResult =
  | { torn: true; segment: string; dataBytes: number; keptBytes: number }
  | { torn: false; reason: string };

/** Options of `tearWalTail`. */
export interface TearOptions {
  /**
   * Only bytes written after this tail may be cut (see the NB above); undefined when the WAL had
   * no segment at the mark (everything in it is new).
   */
  since: WalTail | undefined;
  /** Bytes cut off the end of the data (default 3; fewer when fewer were written since). */
  bytes?: number;
  /**
   * In a segment begun after the mark, never cut into its first this many bytes (default 64):
   * segments are created whole (written, synced, renamed), so no crash tears their header.
   */
  headerBytes?: number;
}

const SEGMENT = /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/;

/** The WAL directory of a member's data dir (etcd's layout, which concord keeps). */
export function walDir(dataDir: string): string {
  return join(dataDir, 'member', 'wal');
}

/** The tail of the WAL in `dataDir`, undefined when it has no segment yet. */
export function walTail(dataDir: string): WalTail | undefined {
  const dir = walDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => SEGMENT.test(name)).sort();
  } catch {
    return undefined;
  }
  const segment = names.at(-1);
  return segment === undefined ? undefined : { segment, dataBytes: dataEnd(join(dir, segment)) };
}

/**
 * Truncates the newest segment inside its last record, cutting only what was written after
 * `since`. The member must not be running.
 */
export function tearWalTail(dataDir: string, options: TearOptions): TearResult {
  const bytes = options.bytes ?? 3;
  if (!Number.isInteger(bytes) || bytes < 1) throw new Error(`chaos: cannot tear ${bytes} bytes`);
  const tail = walTail(dataDir);
  if (tail === undefined) return { torn: false, reason: `no WAL segment in ${walDir(dataDir)}` };
  // The data before `floor` may have been acknowledged: it stays.
  const since = options.since;
  let floor: number;
  if (since === undefined || tail.segment > since.segment) floor = options.headerBytes ?? 64;
  else if (tail.segment === since.segment) floor = since.dataBytes;
  else return { torn: false, reason: `${tail.segment} is older than the mark ${since.segment}` };
  const written = tail.dataBytes - floor;
  if (written <= 0) {
    return { torn: false, reason: `nothing written to ${tail.segment} since the mark` };
  }
  const keptBytes = tail.dataBytes - Math.min(bytes, written);
  truncateSync(join(walDir(dataDir), tail.segment), keptBytes);
  return { torn: true, segment: tail.segment, dataBytes: tail.dataBytes, keptBytes };
}

/** The offset after the file's last non-zero byte, read backwards in chunks (segments are big). */
function dataEnd(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (let end = fstatSync(fd).size; end > 0; end -= chunk.length) {
      const start = Math.max(0, end - chunk.length);
      const read = readSync(fd, chunk, 0, end - start, start);
      for (let i = read - 1; i >= 0; i--) if (chunk[i] !== 0) return start + i + 1;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}
