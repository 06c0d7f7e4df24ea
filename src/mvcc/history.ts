// Reading the revision-ordered history for watchers that start in the past (etcd's unsynced
// watcher group reads the same way, from the backend by revision). A batch never ends in the
// middle of a main revision, so every event of one transaction is delivered together.
import type { Backend } from './backend.ts';
import { decodeKeyValue, decodeRevision, encodeRevision, escapeKey } from './encoding.ts';
import { latestBefore } from './key-index.ts';
import { readKeyValue, toKeyRange } from './read.ts';
import type { KeyRange } from './read.ts';
import { EventType } from './types.ts';
import type { Event, KeyValue } from './types.ts';

/** Options of eventsSince. */
export interface HistoryOptions {
  /** Only events of keys in this etcd range (rangeEnd rules as Range); absent: every key. */
  key?: Uint8Array;
  rangeEnd?: Uint8Array;
  /** Stop after about this many events, at the end of a main revision (default 1000). */
  limit?: number;
  /** Stop after this main revision (inclusive); default: the current revision. */
  endRevision?: number;
  /** Attach each event's previous value (the key at the revision before, if not compacted). */
  prevKv?: boolean;
}

/** A batch of history: the events and the revision to continue from. */
export interface HistoryBatch {
  events: Event[];
  /** The first main revision not yet returned. */
  nextRevision: number;
}

function inRange(range: KeyRange | undefined, key: Uint8Array): boolean {
  if (range === undefined) return true;
  if (range.single) return Buffer.compare(key, range.key) === 0;
  if (Buffer.compare(key, range.start) < 0) return false;
  return range.end === undefined || Buffer.compare(key, range.end) < 0;
}

/** Reads events from `startRevision` (already checked against the compact revision). */
export function readHistory(
  backend: Backend,
  startRevision: number,
  options: HistoryOptions & { endRevision: number; compactRevision: number },
): HistoryBatch {
  const range = options.key === undefined ? undefined : toKeyRange(options.key, options.rangeEnd);
  const limit = options.limit ?? 1000;
  const events: Event[] = [];
  let lastMain = 0;
  let nextRevision = options.endRevision + 1;
  for (const { key, value } of backend.revs.getRange({
    start: encodeRevision(startRevision, 0),
    end: encodeRevision(options.endRevision + 1, 0),
  })) {
    const { main, sub } = decodeRevision(key);
    if (events.length >= limit && main !== lastMain) {
      nextRevision = main;
      break;
    }
    const stored = decodeKeyValue(value);
    if (!inRange(range, stored.key)) continue;
    lastMain = main;
    const isDelete = stored.modRevision === 0;
    const kv: KeyValue = isDelete ? { ...stored, modRevision: main } : stored;
    const event: Event = { type: isDelete ? EventType.delete : EventType.put, kv, sub };
    // As etcd's watch server: the key at main - 1 (not an earlier write of the same txn); none
    // for a put that created the key, nor when main - 1 is compacted.
    const created = !isDelete && kv.version === 1;
    if (options.prevKv === true && !created && main - 1 >= options.compactRevision) {
      const prev = latestBefore(backend, escapeKey(kv.key), { main, sub: 0 });
      if (prev !== undefined && !prev.tombstone) {
        event.prevKv = readKeyValue(backend, prev.main, prev.sub);
      }
    }
    events.push(event);
  }
  return { events, nextRevision };
}
