// The on-disk key index: each key's revisions in the `index` database, ordered by escaped key
// then revision. Answers "which revision of key K was the latest at revision R, and was it a
// tombstone?" and walks the distinct keys of a range, without holding keys in memory.
import type { Backend } from './backend.ts';
import { decodeRevision, encodeIndexKey, escapeBound, revisionBytes } from './encoding.ts';

/** Index value of a put. */
export const putMark = Buffer.from([0]);
/** Index value of a tombstone. */
export const tombstoneMark = Buffer.from([1]);

/** The latest revision of a key at or below some revision. */
export interface IndexHit {
  main: number;
  sub: number;
  tombstone: boolean;
}

const maxRevisionTail = Buffer.alloc(revisionBytes, 0xff);

/**
 * The latest index entry of the escaped key (with terminator) strictly before revision
 * (main, sub), or undefined when the key has none.
 */
export function latestBefore(
  backend: Backend,
  escaped: Buffer,
  before: { main: number; sub: number },
): IndexHit | undefined {
  const start = encodeIndexKey(escaped, before.main, before.sub);
  for (const { key, value } of backend.index.getRange({
    start,
    end: escaped,
    reverse: true,
    exclusiveStart: true,
    limit: 1,
  })) {
    const { main, sub } = decodeRevision(key, key.length - revisionBytes);
    return { main, sub, tombstone: value[0] === 1 };
  }
  return undefined;
}

/**
 * The latest index entry of the escaped key (with terminator) whose main revision is ≤ `atRev`,
 * or undefined when the key has no revision at or below it.
 */
export function latestAt(backend: Backend, escaped: Buffer, atRev: number): IndexHit | undefined {
  return latestBefore(backend, escaped, { main: atRev + 1, sub: 0 });
}

/**
 * Calls `visit(escapedKey)` for each distinct key with index entries in [start, end) in key
 * order, until it returns false. `startEscaped` is the escaped start key with its terminator;
 * `end` is a raw key (exclusive) or undefined for no upper bound.
 */
export function forEachIndexedKey(
  backend: Backend,
  range: { startEscaped: Buffer; end: Uint8Array | undefined },
  visit: (escaped: Buffer) => boolean,
): void {
  const end = range.end === undefined ? undefined : escapeBound(range.end);
  let seek: Buffer = range.startEscaped;
  for (;;) {
    let next: Buffer | undefined;
    const options = end === undefined ? { start: seek, limit: 1 } : { start: seek, end, limit: 1 };
    for (const key of backend.index.getKeys(options)) next = key;
    if (next === undefined) return;
    const escaped = next.subarray(0, next.length - revisionBytes);
    if (!visit(Buffer.from(escaped))) return;
    // Every entry of this key is ≤ escaped + ff…ff; the next key's entries are all above it.
    seek = Buffer.concat([escaped, maxRevisionTail]);
  }
}
