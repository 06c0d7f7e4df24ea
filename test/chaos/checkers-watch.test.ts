// Known-good and known-bad watch logs: duplicated, missing, out-of-order, phantom and wrong
// events, watchers that disagree, and acknowledged writes missing from the history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkWatch, type WatchCheckInput, type WatchEvent, type WatcherLog, type WatchWriteEntry } from './checkers/watch.ts';

const put = (revision: number, key: string, value: string): WatchEvent => ({ revision, key, type: 'put', value });
const del = (revision: number, key: string): WatchEvent => ({ revision, key, type: 'delete', value: null });

const reference: WatchEvent[] = [
  put(10, 'w/a', 'v1'),
  put(12, 'w/a', 'v2'),
  put(12, 'w/b', 'v3'),
  del(13, 'w/a'),
  put(15, 'w/c', 'v4'),
];

let index = 0;
function write(input: WatchWriteEntry['input'], outcome: 'ok' | 'failed' | 'unknown', revision?: number, deleted?: number): WatchWriteEntry {
  return {
    index: index++, workload: 'watch', process: 1, endpoint: '', invokeMs: index, completeMs: outcome === 'unknown' ? Infinity : index + 1,
    input, outcome, ...(revision === undefined ? {} : { output: { revision, ...(deleted === undefined ? {} : { deleted }) } }),
  };
}
const writes: WatchWriteEntry[] = [
  write({ op: 'put', puts: [{ key: 'w/a', value: 'v1' }] }, 'ok', 10),
  write({ op: 'put', puts: [{ key: 'w/a', value: 'v2' }, { key: 'w/b', value: 'v3' }] }, 'ok', 12),
  write({ op: 'delete', key: 'w/a' }, 'ok', 13, 1),
  write({ op: 'put', puts: [{ key: 'w/c', value: 'v4' }] }, 'unknown'),
  write({ op: 'put', puts: [{ key: 'w/d', value: 'v5' }] }, 'unknown'),
];

const watcher = (id: number, events: WatchEvent[]): WatcherLog => ({ id, startRevision: 10, events, connections: [] });

function input(watchers: WatcherLog[], overrides: Partial<WatchCheckInput> = {}): WatchCheckInput {
  return { reference, startRevision: 10, finalRevision: 16, watchers, writes, ...overrides };
}
function kinds(i: WatchCheckInput): string[] {
  return [...new Set(checkWatch(i).violations.map((v) => v.kind))].sort();
}

test('watch checker - watchers that saw exactly the history pass (events of one revision in any order)', () => {
  const reordered = [reference[0]!, reference[2]!, reference[1]!, reference[3]!, reference[4]!];
  const v = checkWatch(input([watcher(0, [...reference]), watcher(1, reordered)]));
  assert.equal(v.result, 'ok', JSON.stringify(v.violations, null, 1));
});

test('watch checker - a watcher that resumed late only sees events from its start revision', () => {
  const w: WatcherLog = { id: 2, startRevision: 13, events: reference.slice(3), connections: [] };
  assert.equal(checkWatch(input([w])).result, 'ok');
});

test('watch checker - an event delivered twice (a resume from the wrong revision) is reported', () => {
  const events = [...reference.slice(0, 4), reference[3]!, reference[4]!];
  assert.deepEqual(kinds(input([watcher(0, [...reference]), watcher(1, events)])), ['duplicate-event']);
});

test('watch checker - a missing event (a gap) is reported', () => {
  const events = reference.filter((e) => e.revision !== 13);
  assert.deepEqual(kinds(input([watcher(0, events)])), ['missing-event']);
});

test('watch checker - events out of revision order are reported', () => {
  const events = [reference[0]!, reference[3]!, reference[1]!, reference[2]!, reference[4]!];
  assert.deepEqual(kinds(input([watcher(0, events)])), ['out-of-order']);
});

test('watch checker - an event the history does not have is reported', () => {
  const events = [...reference.slice(0, 4), put(14, 'w/z', 'zz'), reference[4]!];
  assert.deepEqual(kinds(input([watcher(0, events)])), ['phantom-event']);
});

test('watch checker - an event with the wrong value is reported', () => {
  const events = reference.map((e) => (e.revision === 15 ? put(15, 'w/c', 'other') : e));
  assert.deepEqual(kinds(input([watcher(0, [...reference]), watcher(1, events)])), ['wrong-event']);
});

test('watch checker - an acknowledged put missing from the history is a lost write', () => {
  const lost = reference.filter((e) => e.revision !== 10);
  assert.deepEqual(kinds(input([watcher(0, lost)], { reference: lost })), ['lost-write']);
});

test('watch checker - a value in the history that nobody wrote is reported', () => {
  const extra = [...reference, put(16, 'w/q', 'nobody')];
  assert.deepEqual(kinds(input([watcher(0, extra)], { reference: extra })), ['phantom-write']);
});

test('watch checker - a failed put found in the history is reported', () => {
  const failed = [...writes, write({ op: 'put', puts: [{ key: 'w/c', value: 'v4' }] }, 'failed')];
  assert.deepEqual(kinds(input([watcher(0, [...reference])], { writes: failed })), ['failed-write-applied']);
});
