// hashKV as etcd computes it (mvcc/hash.go): CRC-32C over the bucket name "key", then over every
// history record up to a revision as etcd's backend stores it (key: main '_' sub ['t'], value:
// mvccpb.KeyValue bytes). Records at or below the compact revision count only if a compaction at
// the hashed revision would keep them, so members agree whether or not compaction has finished.
import { crc32c } from '@node-rs/crc32';
import type { Backend } from './backend.ts';
import {
  decodeKeyValue,
  decodeRevision,
  encodeRevision,
  escapeKey,
  etcdBucketKey,
  isTombstoneBytes,
} from './encoding.ts';
import { latestAt } from './key-index.ts';
import { rangeKeys } from './read.ts';

/** The answer of hashKV, as etcd's KeyValueHash. */
export interface KeyValueHash {
  hash: number;
  compactRevision: number;
  revision: number;
}

const bucketName = Buffer.from('key');

/** Hashes history up to `revision` (already resolved: compact ≤ revision ≤ current). */
export function hashKeyValues(
  backend: Backend,
  revisions: { revision: number; compactRevision: number; current: number },
): KeyValueHash {
  const { revision, compactRevision } = revisions;
  // etcd skips nothing when its "keep" set is empty, i.e. when no key is alive at `revision`.
  const anyAlive =
    rangeKeys(
      backend,
      { current: revisions.current, compacted: 0 },
      { key: new Uint8Array(1), rangeEnd: new Uint8Array(1), options: { revision, limit: 1 } },
    ).count > 0;
  let hash = crc32c(bucketName);
  for (const { key, value } of backend.revs.getRange({
    start: encodeRevision(0, 0),
    end: encodeRevision(revision + 1, 0),
  })) {
    const { main, sub } = decodeRevision(key);
    const tombstone = isTombstoneBytes(value);
    if (main <= compactRevision && anyAlive) {
      // Kept by a compaction at `revision`: the key's latest revision ≤ it, and a put.
      if (tombstone) continue;
      const latest = latestAt(backend, escapeKey(decodeKeyValue(value).key), revision);
      if (latest === undefined || latest.main !== main || latest.sub !== sub) continue;
    }
    hash = crc32c(etcdBucketKey(main, sub, tombstone), hash);
    hash = crc32c(value, hash);
  }
  return { hash, compactRevision, revision };
}
