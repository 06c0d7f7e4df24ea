// The watch workload's checker. Watchers follow one prefix from a common start revision,
// reconnecting (to any member) from the revision after the last one they saw. The reference is
// the prefix's true history, read back revision by revision after the run. Each watcher must
// have seen exactly the reference — every event once, in revision order, no gap, nothing extra
// — so all watchers agree; and the reference must agree with the writers: every acknowledged
// write at the revision its response named, no failed write, nothing nobody wrote.
import { describeEntry, type HistoryEntry } from '../history.ts';
import { type Verdict, type Violation, verdictOf } from './verdict.ts';

/** One event: a put (with its value) or a delete of `key` at `revision`. */
export interface WatchEvent {
  revision: number;
  key: string;
  type: 'put' | 'delete';
  /** The value of a put; null for a delete. */
  value: string | null;
}

/** What one watcher saw, in arrival order, across all its streams. */
export interface WatcherLog {
  id: number;
  startRevision: number;
  events: WatchEvent[];
  /** One line per (re)connection, for reports: `12034.1ms from rev 1723 @127.0.0.1:2379`. */
  connections: string[];
}

/** A write of the watch workload: puts of unique values (one or two in a txn) or a delete. */
export type WatchWriteInput =
  | { op: 'put'; puts: { key: string; value: string }[] }
  | { op: 'delete'; key: string };

/** A write's answer: its revision (and, for a delete, how many keys it deleted). */
export interface WatchWriteOutput {
  revision: number;
  deleted?: number;
}

/** A watch-workload write entry. */
export type WatchWriteEntry = HistoryEntry<WatchWriteInput, WatchWriteOutput>;

/** Everything the checker compares. */
export interface WatchCheckInput {
  /** The prefix's events in [startRevision, finalRevision], in revision order. */
  reference: WatchEvent[];
  startRevision: number;
  finalRevision: number;
  watchers: WatcherLog[];
  writes: readonly WatchWriteEntry[];
}

const eventId = (e: WatchEvent): string => `${e.revision}/${e.key}`;
const describeEvent = (e: WatchEvent): string =>
  `rev ${e.revision} ${e.type} ${e.key}${e.type === 'put' ? `=${e.value ?? ''}` : ''}`;

/** Checks watchers against the reference, and the reference against the writes. */
export function checkWatch(input: WatchCheckInput): Verdict {
  const violations: Violation[] = [];
  for (const w of input.watchers) checkWatcher(w, input, violations);
  checkReferenceAgainstWrites(input, violations);
  const seen = input.watchers.reduce((n, w) => n + w.events.length, 0);
  return verdictOf(
    'watch',
    `${input.watchers.length} watchers saw all ${input.reference.length} events of revisions ` +
      `${input.startRevision}..${input.finalRevision} exactly once, in order (${seen} deliveries)`,
    violations,
  );
}

function checkWatcher(w: WatcherLog, input: WatchCheckInput, violations: Violation[]): void {
  // The events around position i (marked '>') and the watcher's last connections.
  const context = (i: number): string[] => {
    const from = Math.max(0, i - 3);
    return [
      ...w.events.slice(from, i + 3).map((e, k) => `${from + k === i ? '>' : ' '} ${describeEvent(e)}`),
      ...w.connections.slice(-5).map((c) => `  connection ${c}`),
    ];
  };
  const seen = new Set<string>();
  let lastRevision = w.startRevision - 1;
  w.events.forEach((e, i) => {
    const id = eventId(e);
    if (seen.has(id)) {
      violations.push({
        kind: 'duplicate-event',
        message: `watcher ${w.id} saw ${describeEvent(e)} twice`,
        window: context(i),
      });
    } else if (e.revision < lastRevision) {
      violations.push({
        kind: 'out-of-order',
        message: `watcher ${w.id} saw ${describeEvent(e)} after an event of revision ${lastRevision}`,
        window: context(i),
      });
    } else if (e.revision < w.startRevision) {
      violations.push({
        kind: 'early-event',
        message: `watcher ${w.id} started at revision ${w.startRevision} but saw ${describeEvent(e)}`,
        window: context(i),
      });
    }
    seen.add(id);
    lastRevision = Math.max(lastRevision, e.revision);
  });
  const received = new Map<string, WatchEvent>();
  w.events.forEach((e) => received.set(eventId(e), e));
  const expected = input.reference.filter((e) => e.revision >= w.startRevision);
  const referenceIds = new Set(expected.map(eventId));
  let missing = 0;
  for (const e of expected) {
    const got = received.get(eventId(e));
    if (got === undefined) {
      if (missing++ === 0) {
        const at = w.events.findIndex((x) => x.revision > e.revision);
        violations.push({
          kind: 'missing-event',
          message: `watcher ${w.id} never saw ${describeEvent(e)}`,
          window: context(at < 0 ? w.events.length : at),
        });
      }
    } else if (got.type !== e.type || got.value !== e.value) {
      violations.push({
        kind: 'wrong-event',
        message: `watcher ${w.id} saw ${describeEvent(got)}, the history has ${describeEvent(e)}`,
        window: context(w.events.indexOf(got)),
      });
    }
  }
  if (missing > 1) {
    const message = `watcher ${w.id} missed ${missing - 1} more events`;
    violations.push({ kind: 'missing-event', message, window: [] });
  }
  w.events.forEach((e, i) => {
    const inRange = e.revision <= input.finalRevision && e.revision >= w.startRevision;
    if (inRange && !referenceIds.has(eventId(e))) {
      violations.push({
        kind: 'phantom-event',
        message: `watcher ${w.id} saw ${describeEvent(e)}, which the history does not have`,
        window: context(i),
      });
    }
  });
}

function checkReferenceAgainstWrites(input: WatchCheckInput, violations: Violation[]): void {
  const byValue = new Map<string, WatchEvent>();
  const deletes = new Map<string, WatchEvent>();
  for (const e of input.reference) {
    if (e.type === 'put' && e.value !== null) byValue.set(e.value, e);
    else deletes.set(eventId(e), e);
  }
  const written = new Set<string>();
  for (const w of input.writes) {
    if (w.input.op === 'delete') {
      if (w.outcome === 'ok' && (w.output?.deleted ?? 0) > 0 && w.output!.revision >= input.startRevision &&
          !deletes.has(`${w.output!.revision}/${w.input.key}`)) {
        violations.push({
          kind: 'lost-write',
          message: `acknowledged delete of ${w.input.key} at revision ${w.output!.revision} is not in the history`,
          window: [describeEntry(w)],
          fromMs: w.invokeMs,
          toMs: w.completeMs,
        });
      }
      continue;
    }
    for (const put of w.input.puts) {
      written.add(put.value);
      const e = byValue.get(put.value);
      if (w.outcome === 'ok' && (e === undefined || e.revision !== w.output?.revision || e.key !== put.key)) {
        violations.push({
          kind: 'lost-write',
          message: `acknowledged put ${put.key}=${put.value} at revision ${w.output?.revision ?? '?'} is ` +
            (e === undefined ? 'not in the history' : `in the history as ${describeEvent(e)}`),
          window: [describeEntry(w)],
          fromMs: w.invokeMs,
          toMs: w.completeMs,
        });
      } else if (w.outcome === 'failed' && e !== undefined) {
        violations.push({
          kind: 'failed-write-applied',
          message: `put ${put.key}=${put.value} failed, yet the history has ${describeEvent(e)}`,
          window: [describeEntry(w)],
          fromMs: w.invokeMs,
          toMs: w.completeMs,
        });
      }
    }
  }
  for (const [value, e] of byValue) {
    if (!written.has(value)) {
      const message = `the history has ${describeEvent(e)}, which no writer wrote`;
      violations.push({ kind: 'phantom-write', message, window: [] });
    }
  }
}
