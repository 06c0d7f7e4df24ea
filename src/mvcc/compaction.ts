// Compaction: physically removes history at or below a revision C, keeping for each key its
// latest revision ≤ C when that is a put, or a tombstone exactly at C (so watchers starting at C
// still see that delete). NB: etcd 3.4.23 drops a tombstone at exactly C once its background
// compaction has run (a watcher from C misses it); keeping it is the later etcd rule and loses
// no event. Works in chunks of history
// entries, each its own LMDB transaction, in ascending revision order, so that reads at any
// revision ≥ C stay correct between chunks.
import type { Backend } from './backend.ts';
import { MetaKey } from './backend.ts';
import {
  decodeKeyValue,
  decodeRevision,
  encodeIndexKey,
  encodeRevision,
  escapeKey,
  isTombstoneBytes,
} from './encoding.ts';
import { latestAt } from './key-index.ts';

/** History entries examined per LMDB transaction (etcd deletes 1000 keys per batch). */
export const compactionChunkEntries = 1000;

/**
 * Examines up to `chunkEntries` history entries from `from` (inclusive) up to revision
 * `compactRev`, deleting those compaction drops. Returns where to continue, or undefined when
 * done. Call inside a backend transaction.
 */
export function compactChunk(
  backend: Backend,
  job: { compactRev: number; from: Buffer; chunkEntries: number },
): Buffer | undefined {
  const end = encodeRevision(job.compactRev + 1, 0);
  const doomed: { rev: Buffer; indexKey: Buffer }[] = [];
  let seen = 0;
  let last: Buffer | undefined;
  for (const { key, value } of backend.revs.getRange({
    start: job.from,
    end,
    limit: job.chunkEntries,
  })) {
    seen++;
    last = key;
    const { main, sub } = decodeRevision(key);
    const escaped = escapeKey(decodeKeyValue(value).key);
    const latest = latestAt(backend, escaped, job.compactRev);
    const isLatest = latest !== undefined && latest.main === main && latest.sub === sub;
    const keep = isLatest && (!isTombstoneBytes(value) || main === job.compactRev);
    if (!keep) doomed.push({ rev: key, indexKey: encodeIndexKey(escaped, main, sub) });
  }
  // Delete after the scan: removing under an open cursor would disturb its position.
  for (const d of doomed) {
    backend.revs.removeSync(d.rev);
    backend.index.removeSync(d.indexKey);
  }
  if (last === undefined || seen < job.chunkEntries) {
    backend.putMeta(MetaKey.finishedCompactRevision, job.compactRev);
    return undefined;
  }
  const { main, sub } = decodeRevision(last);
  return encodeRevision(main, sub + 1);
}
