// etcd's v3 Range request on top of the key space, in the order etcd's apply layer runs it:
// fetch (limit + 1 when no sort/filter, else everything), drop by mod/create revision bounds,
// sort, truncate to limit (setting `more`), blank values for keysOnly. `count` is the key
// space's count of matches, taken before the filters.
import type { KeyValue, RangeOptions, RangeResult } from './types.ts';

/** RangeRequest.SortOrder. */
export const SortOrder = { none: 'NONE', ascend: 'ASCEND', descend: 'DESCEND' } as const;
/** One of SortOrder's values. */
export type SortOrder = (typeof SortOrder)[keyof typeof SortOrder];

/** RangeRequest.SortTarget. */
export const SortTarget = {
  key: 'KEY',
  version: 'VERSION',
  create: 'CREATE',
  mod: 'MOD',
  value: 'VALUE',
} as const;
/** One of SortTarget's values. */
export type SortTarget = (typeof SortTarget)[keyof typeof SortTarget];

/** The fields of etcd's RangeRequest that reach the key space (0 means "unset", as in proto3). */
export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  limit?: number;
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

/** etcd's RangeResponse without its header (whose revision is `revision`). */
export interface RangeResponse {
  kvs: KeyValue[];
  more: boolean;
  count: number;
  revision: number;
}

/** Anything that ranges like the key space: the store, or a write txn. */
export interface RangeReader {
  range(key: Uint8Array, rangeEnd?: Uint8Array, options?: RangeOptions): RangeResult;
}

const compareBytes = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);

const comparators: Record<SortTarget, (a: KeyValue, b: KeyValue) => number> = {
  KEY: (a, b) => compareBytes(a.key, b.key),
  VERSION: (a, b) => a.version - b.version,
  CREATE: (a, b) => a.createRevision - b.createRevision,
  MOD: (a, b) => a.modRevision - b.modRevision,
  VALUE: (a, b) => compareBytes(a.value, b.value),
};

/** Serves a RangeRequest from `reader` exactly as etcd's apply layer does. Throws MvccError. */
export function executeRange(reader: RangeReader, request: RangeRequest): RangeResponse {
  const limit = request.limit ?? 0;
  const filtered =
    (request.minModRevision ?? 0) !== 0 ||
    (request.maxModRevision ?? 0) !== 0 ||
    (request.minCreateRevision ?? 0) !== 0 ||
    (request.maxCreateRevision ?? 0) !== 0;
  let sortOrder = request.sortOrder ?? SortOrder.none;
  const sortTarget = request.sortTarget ?? SortTarget.key;
  const fetchAll = sortOrder !== SortOrder.none || filtered;
  const options: RangeOptions = {
    limit: !fetchAll && limit > 0 ? limit + 1 : 0,
    revision: request.revision ?? 0,
    countOnly: request.countOnly === true,
  };
  const rr = reader.range(request.key, request.rangeEnd, options);
  let kvs = rr.kvs.filter((kv) => keepByRevisions(request, kv));

  // The key space already returns keys in ascending order.
  if (sortTarget !== SortTarget.key && sortOrder === SortOrder.none) sortOrder = SortOrder.ascend;
  else if (sortTarget === SortTarget.key && sortOrder === SortOrder.ascend) {
    sortOrder = SortOrder.none;
  }
  if (sortOrder !== SortOrder.none) {
    const compare = comparators[sortTarget];
    kvs.sort(sortOrder === SortOrder.ascend ? compare : (a, b) => compare(b, a));
  }
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  if (request.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) }));
  return { kvs, more, count: rr.count, revision: rr.revision };
}

function keepByRevisions(r: RangeRequest, kv: KeyValue): boolean {
  const maxMod = r.maxModRevision ?? 0;
  const minMod = r.minModRevision ?? 0;
  const maxCreate = r.maxCreateRevision ?? 0;
  const minCreate = r.minCreateRevision ?? 0;
  if (maxMod !== 0 && kv.modRevision > maxMod) return false;
  if (minMod !== 0 && kv.modRevision < minMod) return false;
  if (maxCreate !== 0 && kv.createRevision > maxCreate) return false;
  if (minCreate !== 0 && kv.createRevision < minCreate) return false;
  return true;
}
