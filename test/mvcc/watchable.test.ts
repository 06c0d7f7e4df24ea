// The watchable store: synced and unsynced watchers, catch-up from history, victims, compaction,
// progress, and a property test that every watcher sees exactly the history of its range.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventType, WatchHub, WatchStreamBuffer } from '../../src/mvcc/index.ts';
import type {
  Event,
  Store,
  WatchBatch,
  Watcher,
  WatchHubOptions,
} from '../../src/mvcc/index.ts';
import { b, openStore, s, zero } from './helpers.ts';

/** A sink that records what it takes; `accept` decides, per offer, whether it takes a batch. */
function collector(accept: () => boolean = () => true) {
  const batches: WatchBatch[] = [];
  let offers = 0;
  const sink = (batch: WatchBatch): boolean => {
    offers++;
    if (!accept()) return false;
    batches.push(batch);
    return true;
  };
  return {
    sink,
    batches,
    get offers() {
      return offers;
    },
    /** Taken events as "TYPE key=value@mod". */
    events: () => batches.flatMap((batch) => batch.events.map(describe)),
  };
}

function describe(e: Event): string {
  const value = e.type === EventType.put ? `=${s(e.kv.value)}` : '';
  return `${e.type} ${s(e.kv.key)}${value}@${e.kv.modRevision}`;
}

/** The member's part: one write txn per entry of `txns`, all in one batch, then notify. */
type TxnOps = [op: 'put' | 'del', key: string, value?: string][];

function apply(store: Store, hub: WatchHub, ...txns: TxnOps[]): void {
  const events: Event[] = [];
  store.batch(() => {
    for (const ops of txns) {
      const r = store.write(store.consistentIndex + 1, (txn) => {
        for (const [op, key, value] of ops) {
          if (op === 'put') txn.put(b(key), b(value ?? ''));
          else txn.deleteRange(b(key));
        }
      });
      events.push(...r.events);
    }
  });
  hub.notify(events, store.currentRevision);
}

function put(store: Store, hub: WatchHub, key: string, value: string): void {
  apply(store, hub, [['put', key, value]]);
}

function manualHub(store: Store, options: WatchHubOptions = {}): WatchHub {
  return new WatchHub(store, { manual: true, ...options });
}

/** Runs catch-up steps until nothing is unsynced (bounded). */
function syncAll(hub: WatchHub): void {
  for (let i = 0; i < 1000 && hub.syncUnsynced(); i++);
  assert.equal(hub.counts().unsynced, 0);
}

test('watch - a synced watcher gets each notified batch as one batch at its revision', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  put(store, hub, 'a', 'before'); // revision 2, before the watch
  const c = collector();
  const w = hub.watch({ key: b('a') }, c.sink);
  assert.equal(w.state, 'synced');
  put(store, hub, 'a', '1');
  put(store, hub, 'b', 'other key');
  apply(store, hub, [['put', 'a', '2']], [['del', 'a']]); // revisions 5 and 6 in one batch
  assert.deepEqual(c.batches.map((x) => [x.revision, x.events.map(describe)]), [
    [3, ['PUT a=1@3']],
    [6, ['PUT a=2@5', 'DELETE a@6']],
  ]);
  assert.equal(hub.size, 1);
});

test('watch - a watcher from a past revision replays history, then goes live without gap or duplicate', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store, { syncChunkEvents: 2 });
  for (let i = 1; i <= 5; i++) put(store, hub, 'k', `v${i}`); // revisions 2..6
  const c = collector();
  const w = hub.watch({ key: b('k'), startRevision: 3 }, c.sink);
  assert.equal(w.state, 'unsynced');
  assert.equal(c.offers, 0, 'nothing is delivered synchronously');
  assert.equal(hub.syncUnsynced(), true); // revisions 3, 4
  put(store, hub, 'k', 'during-1'); // revision 7 lands while the watcher catches up
  assert.equal(w.state, 'unsynced');
  assert.equal(hub.syncUnsynced(), true); // 5, 6
  put(store, hub, 'k', 'during-2'); // 8
  syncAll(hub); // 7, 8
  assert.equal(w.state, 'synced');
  put(store, hub, 'k', 'live'); // 9
  assert.deepEqual(c.events(), [
    'PUT k=v2@3', 'PUT k=v3@4', 'PUT k=v4@5', 'PUT k=v5@6',
    'PUT k=during-1@7', 'PUT k=during-2@8', 'PUT k=live@9',
  ]);
});

test('watch - a batch committed but not yet notified reaches a catching-up watcher once', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  put(store, hub, 'k', 'a'); // 2
  const c = collector();
  hub.watch({ key: b('k'), startRevision: 2 }, c.sink);
  const r = store.write(store.consistentIndex + 1, (txn) => txn.put(b('k'), b('b'))); // 3
  syncAll(hub); // reads history only up to revision 2, the last notified
  hub.notify(r.events, r.revision);
  assert.deepEqual(c.events(), ['PUT k=a@2', 'PUT k=b@3']);
});

test('watch - range, prefix and from-key watchers see exactly the keys of their range', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  const prefix = collector();
  const range = collector();
  const fromKey = collector();
  const single = collector();
  const all = collector();
  hub.watch({ key: b('a'), rangeEnd: b('b') }, prefix.sink);
  hub.watch({ key: b('ab'), rangeEnd: b('c') }, range.sink);
  hub.watch({ key: b('b'), rangeEnd: zero }, fromKey.sink);
  hub.watch({ key: b('ab'), rangeEnd: new Uint8Array(0) }, single.sink);
  hub.watch({ key: new Uint8Array(0), rangeEnd: zero }, all.sink);
  apply(store, hub, [['put', 'a', '1'], ['put', 'ab', '2'], ['put', 'b', '3'], ['put', 'c', '4']]);
  apply(store, hub, [['put', 'a\x00', '5'], ['put', '\xff', '6']]);
  const keys = (c: ReturnType<typeof collector>) =>
    c.batches.flatMap((x) => x.events.map((e) => Buffer.from(e.kv.key).toString('latin1')));
  assert.deepEqual(keys(prefix), ['a', 'ab', 'a\x00']);
  assert.deepEqual(keys(range), ['ab', 'b']);
  assert.deepEqual(keys(fromKey), ['b', 'c', '\xc3\xbf']); // "\xff" is UTF-8 encoded by b()
  assert.deepEqual(keys(single), ['ab']);
  assert.deepEqual(keys(all), ['a', 'ab', 'b', 'c', 'a\x00', '\xc3\xbf']);
});

test('watch - filters drop PUT or DELETE events, live and from history', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  apply(store, hub, [['put', 'k', '1']], [['del', 'k']]); // 2, 3
  const noPut = collector();
  const noDelete = collector();
  const pastNoPut = collector();
  hub.watch({ key: b('k'), filters: { noPut: true } }, noPut.sink);
  hub.watch({ key: b('k'), filters: { noDelete: true } }, noDelete.sink);
  hub.watch({ key: b('k'), startRevision: 2, filters: { noPut: true } }, pastNoPut.sink);
  apply(store, hub, [['put', 'k', '2']], [['del', 'k']]); // 4, 5
  syncAll(hub);
  assert.deepEqual(noPut.events(), ['DELETE k@5']);
  assert.deepEqual(noDelete.events(), ['PUT k=2@4']);
  assert.deepEqual(pastNoPut.events(), ['DELETE k@3', 'DELETE k@5']);
});

test('watch - prevKv is attached only for watchers that asked, live and from history', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  put(store, hub, 'k', 'v1'); // 2
  const live = collector();
  const plain = collector();
  const past = collector();
  hub.watch({ key: b('k'), prevKv: true }, live.sink);
  hub.watch({ key: b('k') }, plain.sink);
  hub.watch({ key: b('k'), startRevision: 2, prevKv: true }, past.sink);
  put(store, hub, 'k', 'v2'); // 3
  apply(store, hub, [['del', 'k']]); // 4
  put(store, hub, 'k', 'v3'); // 5: a new generation, no previous value
  // A write that asked for prevKv itself: a watcher without prevKv must not see it.
  const r = store.write(store.consistentIndex + 1, (txn) =>
    txn.put(b('k'), b('v4'), { prevKv: true }),
  );
  hub.notify(r.events, r.revision); // 6
  syncAll(hub);
  const prev = (c: ReturnType<typeof collector>) =>
    c.batches.flatMap((x) => x.events.map((e) => (e.prevKv ? s(e.prevKv.value) : null)));
  assert.deepEqual(prev(live), ['v1', 'v2', null, 'v3']);
  assert.deepEqual(prev(plain), [null, null, null, null]);
  assert.deepEqual(prev(past), [null, 'v1', 'v2', null, 'v3']);
  const first = live.batches[0]!.events[0]!.prevKv!;
  assert.deepEqual([first.createRevision, first.modRevision, first.version], [2, 2, 1]);
});

test('watch - a watcher whose start was compacted gets one batch with compactRevision and is removed', async (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  for (let i = 1; i <= 5; i++) put(store, hub, 'k', `v${i}`); // 2..6
  await store.compact(4).done;
  const old = collector();
  const atCompact = collector();
  const w = hub.watch({ key: b('k'), startRevision: 3 }, old.sink);
  hub.watch({ key: b('k'), startRevision: 4 }, atCompact.sink);
  syncAll(hub);
  assert.deepEqual(old.batches, [{ events: [], revision: 6, compactRevision: 4 }]);
  assert.equal(w.state, 'cancelled');
  assert.equal(hub.size, 1);
  put(store, hub, 'k', 'v6');
  assert.equal(old.batches.length, 1);
  // etcd's rule is `start < compactRevision`: a start at the compact revision still replays.
  assert.deepEqual(atCompact.events(), ['PUT k=v3@4', 'PUT k=v4@5', 'PUT k=v5@6', 'PUT k=v6@7']);
});

test('watch - a slow watcher does not block others and later receives everything in order', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  let open = false;
  const slow = collector(() => open);
  const fast = collector();
  const ws = hub.watch({ key: b('k') }, slow.sink);
  hub.watch({ key: b('k') }, fast.sink);
  put(store, hub, 'k', '1'); // 2: refused, the slow watcher becomes a victim
  assert.equal(ws.state, 'victim');
  put(store, hub, 'k', '2'); // 3: a victim is not offered live events
  assert.equal(slow.offers, 1);
  hub.retryVictims();
  syncAll(hub); // still refusing: a victim again
  assert.equal(ws.state, 'victim');
  put(store, hub, 'k', '3'); // 4
  open = true;
  hub.retryVictims();
  syncAll(hub);
  assert.equal(ws.state, 'synced');
  put(store, hub, 'k', '4'); // 5
  assert.deepEqual(fast.events(), ['PUT k=1@2', 'PUT k=2@3', 'PUT k=3@4', 'PUT k=4@5']);
  assert.deepEqual(slow.events(), fast.events());
  assert.deepEqual(hub.counts(), { synced: 2, unsynced: 0, victims: 0 });
});

test('watch - cancel stops delivery at once, close cancels everything, both idempotent', async (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  put(store, hub, 'k', '1');
  const a = collector();
  const c = collector();
  const wa = hub.watch({ key: b('k') }, a.sink);
  const wc = hub.watch({ key: b('k'), startRevision: 2 }, c.sink);
  assert.equal(hub.cancel(wa), true);
  assert.equal(hub.cancel(wa), false);
  assert.equal(hub.cancel(wc), true);
  put(store, hub, 'k', '2');
  syncAll(hub);
  assert.deepEqual([a.offers, c.offers], [0, 0]);
  const d = collector();
  const wd = hub.watch({ key: b('k') }, d.sink);
  await hub.close();
  await hub.close();
  assert.equal(wd.state, 'cancelled');
  assert.equal(hub.size, 0);
  put(store, hub, 'k', '3'); // notify after close is ignored
  assert.equal(d.offers, 0);
  assert.throws(() => hub.watch({ key: b('k') }, d.sink), /closed/);
});

test('watch - a sink that cancels watchers while being called leaves the hub consistent', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  const watchers: Watcher[] = [];
  const got: number[] = [];
  for (let i = 0; i < 3; i++) {
    watchers.push(
      hub.watch({ key: b('k') }, (_batch, w) => {
        got.push(w.id);
        for (const other of watchers) hub.cancel(other);
        return true;
      }),
    );
  }
  put(store, hub, 'k', '1');
  assert.equal(got.length, 1);
  assert.equal(hub.size, 0);
});

test('watch - progress: requestProgress answers synced watchers only; ticks skip watchers that got events', (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  put(store, hub, 'k', '1'); // 2
  const synced = collector();
  const behind = collector();
  const quiet = collector();
  const ws = hub.watch({ key: b('k'), progressNotify: true }, synced.sink);
  const wb = hub.watch({ key: b('k'), startRevision: 2, progressNotify: true }, behind.sink);
  hub.watch({ key: b('other'), progressNotify: true }, quiet.sink);
  assert.equal(hub.requestProgress(ws), true);
  assert.equal(hub.requestProgress(wb), false);
  assert.equal(hub.progressIfSynced([ws, wb]), undefined);
  assert.deepEqual(synced.batches, [{ events: [], revision: 2 }]);
  syncAll(hub);
  assert.equal(hub.progressIfSynced([ws, wb]), 2);
  put(store, hub, 'k', '2'); // 3: both k watchers got events in this interval
  hub.progressTick();
  assert.deepEqual(quiet.batches, [{ events: [], revision: 3 }]);
  assert.equal(synced.batches.length, 2);
  hub.progressTick(); // a quiet interval for all
  assert.deepEqual(synced.batches.at(-1), { events: [], revision: 3 });
  assert.deepEqual(behind.batches.at(-1), { events: [], revision: 3 });
  assert.equal(quiet.batches.length, 2);
});

test('watch - without manual steps the background loop catches up and victims are retried', async (t) => {
  const { store } = openStore(t);
  const hub = new WatchHub(store, { syncChunkEvents: 3, victimRetryMs: 1 });
  t.after(() => hub.close());
  for (let i = 1; i <= 20; i++) put(store, hub, 'k', `${i}`); // 2..21
  let refusals = 3;
  const c = collector(() => refusals-- <= 0);
  const w = hub.watch({ key: b('k'), startRevision: 2 }, c.sink);
  for (let i = 0; i < 200 && !(w.state === 'synced' && c.batches.length > 0); i++) {
    put(store, hub, 'other', `${i}`); // writes keep landing meanwhile
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.equal(w.state, 'synced');
  put(store, hub, 'k', 'live');
  const expected = Array.from({ length: 20 }, (_, i) => `PUT k=${i + 1}@${i + 2}`);
  assert.deepEqual(c.events(), [...expected, `PUT k=live@${store.currentRevision}`]);
});

test('watch stream - a bounded buffer refuses when full, wakes its victims once drained', async (t) => {
  const { store } = openStore(t);
  let drains = 0;
  const hub = manualHub(store);
  const buffer = new WatchStreamBuffer({ capacity: 2, onDrain: () => drains++ });
  const w = hub.watch({ key: b('k') }, buffer.sink);
  put(store, hub, 'k', '1');
  put(store, hub, 'k', '2');
  put(store, hub, 'k', '3'); // full: refused, w is a victim
  assert.equal(w.state, 'victim');
  assert.equal(buffer.length, 2);
  const first = await buffer.take();
  assert.equal(first?.watcher, w);
  assert.equal(drains, 1);
  hub.retryVictims();
  syncAll(hub);
  const taken = [first, await buffer.take(), await buffer.take()];
  assert.deepEqual(
    taken.flatMap((batch) => batch?.events.map(describe)),
    ['PUT k=1@2', 'PUT k=2@3', 'PUT k=3@4'],
  );
  put(store, hub, 'k', '4');
  buffer.close(); // drops what waits; the iterator ends
  const rest: string[] = [];
  for await (const batch of buffer) rest.push(...batch.events.map(describe));
  assert.deepEqual(rest, []);
  assert.equal(await buffer.take(), undefined);
});

test('watch stream - a waiting taker gets the next batch directly', async (t) => {
  const { store } = openStore(t);
  const hub = manualHub(store);
  const buffer = new WatchStreamBuffer();
  hub.watch({ key: b('k') }, buffer.sink);
  const next = buffer.take();
  put(store, hub, 'k', '1');
  const got = await next;
  assert.deepEqual(got?.events.map(describe), ['PUT k=1@2']);
  assert.equal(buffer.length, 0);
});
