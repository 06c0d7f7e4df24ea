// Range reads at a revision. At the newest revision the `live` table answers with one cursor
// pass; at an older one the key index finds each key's latest revision at or below it. Both see
// the writes of an open write transaction, because lmdb-js reads inside it then.
import type { Backend } from './backend.ts';
import { decodeKeyValue, decodeLiveRecord, encodeRevision, escapeKey } from './encoding.ts';
import { MvccError, MvccErrorCode } from './errors.ts';
import { forEachIndexedKey, latestAt } from './key-index.ts';
import type { KeyValue, RangeOptions, RangeResult } from './types.ts';

/** A normalized etcd range: one key, or [start, end) with end undefined for "no upper bound". */
export type KeyRange =
  | { single: true; key: Uint8Array }
  | { single: false; start: Uint8Array; end: Uint8Array | undefined };

/**
 * etcd's range_end rules: empty → the single key; one zero byte ("\0") → every key ≥ key;
 * otherwise the half-open interval [key, rangeEnd).
 */
export function toKeyRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyRange {
  if (rangeEnd === undefined || rangeEnd.length === 0) return { single: true, key };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) {
    return { single: false, start: key, end: undefined };
  }
  return { single: false, start: key, end: rangeEnd };
}

/** The revisions a reader resolves a request against. */
export interface ReadView {
  /** The newest revision visible (current, or the open write txn's). */
  current: number;
  compacted: number;
}

/** Reads the stored KeyValue at (main, sub); the record must exist (else a bug). */
export function readKeyValue(backend: Backend, main: number, sub: number): KeyValue {
  const buf = backend.revs.get(encodeRevision(main, sub));
  if (buf === undefined) {
    throw new Error(`mvcc: revision ${main}.${sub} is indexed but missing from history`);
  }
  return decodeKeyValue(buf);
}

/** Checks options.revision against the view and returns the revision to read at. */
export function resolveRevision(view: ReadView, revision: number | undefined): number {
  const rev = revision ?? 0;
  if (rev > view.current) {
    throw new MvccError(MvccErrorCode.futureRevision, { currentRevision: view.current });
  }
  const at = rev <= 0 ? view.current : rev;
  if (at < view.compacted) {
    throw new MvccError(MvccErrorCode.compacted, {
      compactRevision: view.compacted,
      currentRevision: view.current,
    });
  }
  return at;
}

/** etcd's mvcc Range: kvs in key order (up to limit), count of all matches, header revision. */
export function rangeKeys(
  backend: Backend,
  view: ReadView,
  request: { key: Uint8Array; rangeEnd?: Uint8Array | undefined; options?: RangeOptions },
): RangeResult {
  const options = request.options ?? {};
  const at = resolveRevision(view, options.revision);
  const range = toKeyRange(request.key, request.rangeEnd);
  const limit = options.limit !== undefined && options.limit > 0 ? options.limit : Infinity;
  const countOnly = options.countOnly === true;
  const found =
    at === view.current
      ? rangeLive(backend, range, limit, countOnly)
      : rangeHistoric(backend, { range, at, limit, countOnly });
  return { kvs: found.kvs, count: found.count, revision: view.current };
}

function rangeLive(
  backend: Backend,
  range: KeyRange,
  limit: number,
  countOnly: boolean,
): { kvs: KeyValue[]; count: number } {
  if (range.single) {
    if (range.key.length === 0) return { kvs: [], count: 0 };
    const key = range.key;
    const rec = backend.live.get(Buffer.from(key.buffer, key.byteOffset, key.length));
    if (rec === undefined) return { kvs: [], count: 0 };
    if (countOnly) return { kvs: [], count: 1 };
    const { main, sub } = decodeLiveRecord(rec);
    return { kvs: [readKeyValue(backend, main, sub)], count: 1 };
  }
  const bounds = liveBounds(range.start, range.end);
  if (bounds === undefined) return { kvs: [], count: 0 };
  // NB: lmdb-js's getCount writes `onlyCount` into the options object it is given.
  const count = backend.live.getCount({ ...bounds });
  if (countOnly || count === 0) return { kvs: [], count };
  const kvs: KeyValue[] = [];
  const take = Math.min(limit, count);
  for (const { value } of backend.live.getRange({ ...bounds, limit: take })) {
    const { main, sub } = decodeLiveRecord(value);
    kvs.push(readKeyValue(backend, main, sub));
  }
  return { kvs, count };
}

function liveBounds(
  start: Uint8Array,
  end: Uint8Array | undefined,
): { start: Buffer; end?: Buffer } | undefined {
  const s = Buffer.from(start.buffer, start.byteOffset, start.length);
  if (end === undefined) return { start: s };
  if (Buffer.compare(s, end) >= 0) return undefined;
  return { start: s, end: Buffer.from(end.buffer, end.byteOffset, end.length) };
}

function rangeHistoric(
  backend: Backend,
  q: { range: KeyRange; at: number; limit: number; countOnly: boolean },
): { kvs: KeyValue[]; count: number } {
  const kvs: KeyValue[] = [];
  let count = 0;
  const visit = (escaped: Buffer): boolean => {
    const hit = latestAt(backend, escaped, q.at);
    if (hit === undefined || hit.tombstone) return true;
    count++;
    if (!q.countOnly && kvs.length < q.limit) kvs.push(readKeyValue(backend, hit.main, hit.sub));
    return true;
  };
  if (q.range.single) {
    if (q.range.key.length > 0) visit(escapeKey(q.range.key));
    return { kvs, count };
  }
  if (q.range.end !== undefined && Buffer.compare(q.range.start, q.range.end) >= 0) {
    return { kvs, count };
  }
  forEachIndexedKey(backend, { startEscaped: escapeKey(q.range.start), end: q.range.end }, visit);
  return { kvs, count };
}
