// Property tests of the watchable store. Random write batches interleave with watchers created at
// random start revisions, slow consumers that refuse at random, catch-up steps, victim retries,
// compactions and cancels; once everyone drains, each watcher must hold exactly the history of
// its range from its start, in order (a naive model of the key space says what that history is).
// Also: the watcher group's range matching against a linear scan.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Store, WatchHub } from '../../src/mvcc/index.ts';
import type { Event, KeyValue, WatchBatch, Watcher } from '../../src/mvcc/index.ts';
import { keyString, watchedRange, WatcherGroup } from '../../src/mvcc/watcher-group.ts';
import { tempDir } from './helpers.ts';

const keys = ['a', 'a\x00', 'ab', 'b', 'ba', 'c', '\xff'];
const ranges: [string, string | undefined][] = [
  ['a', undefined],
  ['ab', undefined],
  ['a', 'b'], // prefix a
  ['ab', 'c'],
  ['b', '\x00'], // every key from b
  ['', '\x00'], // every key
  ['c', 'a'], // empty: start after end
];
const bytes = (latin1: string): Uint8Array => new Uint8Array(Buffer.from(latin1, 'latin1'));

type Op = { kind: 'put'; key: string; value: string } | { kind: 'del'; key: string; end?: string };
type Command =
  | { kind: 'write'; txns: Op[][] }
  | {
      kind: 'watch';
      range: number;
      start: number;
      prevKv: boolean;
      filter: number;
      accept: boolean[];
    }
  | { kind: 'sync' }
  | { kind: 'retry' }
  | { kind: 'compact'; at: number }
  | { kind: 'cancel'; index: number };

const key = fc.constantFrom(...keys);
const txn: fc.Arbitrary<Op[]> = fc.oneof(
  // puts and single-key deletes on distinct keys (etcd refuses a txn writing a key twice)
  fc
    .uniqueArray(fc.tuple(key, fc.boolean(), fc.nat(99)), {
      minLength: 1,
      maxLength: 3,
      selector: (x) => x[0],
    })
    .map((ops) =>
      ops.map(([k, isPut, v]): Op =>
        isPut ? { kind: 'put', key: k, value: `v${v}` } : { kind: 'del', key: k },
      ),
    ),
  fc.constantFrom(...ranges.filter(([, end]) => end !== undefined)).map(([k, end]): Op[] => [
    end === undefined ? { kind: 'del', key: k } : { kind: 'del', key: k, end },
  ]),
);
const write = fc
  .array(txn, { minLength: 1, maxLength: 3 })
  .map((txns): Command => ({ kind: 'write', txns }));
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: write },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('watch' as const),
      range: fc.nat(ranges.length - 1),
      start: fc.nat(40),
      prevKv: fc.boolean(),
      filter: fc.constantFrom(0, 0, 1, 2),
      accept: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'retry' as const }) },
  {
    weight: 1,
    arbitrary: fc
      .double({ min: 0, max: 1, noNaN: true })
      .map((at) => ({ kind: 'compact' as const, at })),
  },
  { weight: 1, arbitrary: fc.nat(20).map((index) => ({ kind: 'cancel' as const, index })) },
);

/** The key space, naively, and every event it ever produced. */
class Model {
  live = new Map<string, KeyValue>();
  log: { event: Event; key: string }[] = [];
  current = 1;
  compacted = 0;

  apply(ops: Op[]): void {
    const rev = this.current + 1;
    const before = this.log.length;
    for (const op of ops) {
      if (op.kind === 'put') this.#put(op.key, op.value, rev);
      else {
        const hit = [...this.live.keys()].filter((k) => inRange(k, op.key, op.end)).sort();
        for (const k of hit) this.#delete(k, rev);
      }
    }
    if (this.log.length > before) this.current = rev;
  }

  #put(k: string, value: string, rev: number): void {
    const prev = this.live.get(k);
    const kv: KeyValue = {
      key: bytes(k),
      createRevision: prev?.createRevision ?? rev,
      modRevision: rev,
      version: (prev?.version ?? 0) + 1,
      value: new TextEncoder().encode(value),
      lease: 0n,
    };
    this.live.set(k, kv);
    this.#record({ type: 'PUT', kv, sub: 0 }, k, prev);
  }

  #delete(k: string, rev: number): void {
    const prev = this.live.get(k);
    this.live.delete(k);
    const kv: KeyValue = {
      key: bytes(k),
      createRevision: 0,
      modRevision: rev,
      version: 0,
      value: new Uint8Array(0),
      lease: 0n,
    };
    this.#record({ type: 'DELETE', kv, sub: 0 }, k, prev);
  }

  #record(event: Event, k: string, prev: KeyValue | undefined): void {
    this.log.push({ event: prev === undefined ? event : { ...event, prevKv: prev }, key: k });
  }
}

function inRange(k: string, start: string, end: string | undefined): boolean {
  if (end === undefined) return k === start;
  if (end === '\x00') return k >= start;
  return k >= start && k < end;
}

function row(e: Event, withPrev: boolean): string {
  const kv = (x: KeyValue) =>
    `${keyString(x.key)}=${Buffer.from(x.value).toString()} ` +
    `c${x.createRevision} m${x.modRevision} v${x.version}`;
  const prev = withPrev && e.prevKv !== undefined ? ` prev(${kv(e.prevKv)})` : '';
  return `${e.type} ${kv(e.kv)}${prev}`;
}

interface Tracked {
  watcher: Watcher;
  range: [string, string | undefined];
  start: number;
  prevKv: boolean;
  filter: number;
  taken: WatchBatch[];
  compactedAt: number | undefined;
  cancelled: boolean;
}

test('watch - every watcher ends with exactly the history of its range from its start, in order', async (t) => {
  const root = tempDir(t, 'concord-watch-prop-');
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      // Some history first, so watchers can start far in the past.
      fc.array(write, { maxLength: 12 }),
      fc.array(command, { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 3 }),
      async (history, later, syncChunkEvents, maxWatchersPerSync) => {
        const commands = [...history, ...later];
        const store = Store.open(mkdtempSync(join(root, `run-${run++}-`)));
        const hub = new WatchHub(store, { manual: true, syncChunkEvents, maxWatchersPerSync });
        try {
          const model = new Model();
          const tracked: Tracked[] = [];
          let draining = false;
          for (const cmd of commands) {
            step(cmd, { store, hub, model, tracked, isDraining: () => draining });
          }
          draining = true;
          for (let i = 0; i < 200; i++) {
            hub.retryVictims();
            while (hub.syncUnsynced());
            const { unsynced, victims } = hub.counts();
            if (unsynced + victims === 0) break;
          }
          assert.deepEqual(hub.counts().unsynced + hub.counts().victims, 0);
          for (const w of tracked) check(w, model);
        } finally {
          await hub.close();
          await store.close();
        }
      },
    ),
    { numRuns: 150 },
  );
});

interface World {
  store: Store;
  hub: WatchHub;
  model: Model;
  tracked: Tracked[];
  isDraining: () => boolean;
}

function step(cmd: Command, world: World): void {
  const { store, hub, model, tracked } = world;
  switch (cmd.kind) {
    case 'write': {
      const events: Event[] = [];
      store.batch(() => {
        for (const ops of cmd.txns) {
          model.apply(ops);
          const r = store.write(store.consistentIndex + 1, (txn) => {
            for (const op of ops) {
              if (op.kind === 'put') txn.put(bytes(op.key), new TextEncoder().encode(op.value));
              else txn.deleteRange(bytes(op.key), op.end === undefined ? undefined : bytes(op.end));
            }
          });
          events.push(...r.events);
        }
      });
      assert.equal(store.currentRevision, model.current);
      hub.notify(events, store.currentRevision);
      return;
    }
    case 'watch': {
      const range = ranges[cmd.range]!;
      // 0: from now on; else anywhere in [1, current + 2]: past, present and future.
      const start = cmd.start === 0 ? 0 : 1 + (cmd.start % (model.current + 2));
      const entry: Tracked = {
        watcher: undefined as unknown as Watcher,
        range,
        start: start === 0 ? hub.revision + 1 : start,
        prevKv: cmd.prevKv,
        filter: cmd.filter,
        taken: [],
        compactedAt: undefined,
        cancelled: false,
      };
      let offers = 0;
      const sink = (batch: WatchBatch): boolean => {
        const accept = world.isDraining() || cmd.accept[offers++ % cmd.accept.length]!;
        if (!accept) return false;
        assert.equal(entry.compactedAt, undefined, 'nothing after a compacted batch');
        assert.ok(!entry.cancelled, 'nothing after cancel');
        const last = batch.events.at(-1);
        assert.ok(batch.revision <= model.current);
        if (last !== undefined) assert.ok(batch.revision >= last.kv.modRevision);
        if (batch.compactRevision !== undefined) entry.compactedAt = batch.compactRevision;
        else assert.ok(batch.events.length > 0, 'no empty batches without progress requests');
        entry.taken.push(batch);
        return true;
      };
      const request = {
        key: bytes(range[0]),
        ...(range[1] === undefined ? {} : { rangeEnd: bytes(range[1]) }),
        startRevision: start,
        prevKv: cmd.prevKv,
        filters: { noPut: cmd.filter === 1, noDelete: cmd.filter === 2 },
      };
      entry.watcher = hub.watch(request, sink);
      tracked.push(entry);
      return;
    }
    case 'sync':
      hub.syncUnsynced();
      return;
    case 'retry':
      hub.retryVictims();
      return;
    case 'compact': {
      if (model.current <= model.compacted) return;
      const at = model.compacted + 1 + Math.floor(cmd.at * (model.current - model.compacted - 1));
      void store.compact(at).done; // history is compacted logically at once; removal follows
      model.compacted = at;
      return;
    }
    case 'cancel': {
      const entry = tracked[cmd.index % Math.max(1, tracked.length)];
      if (entry === undefined) return;
      hub.cancel(entry.watcher);
      entry.cancelled = true;
      return;
    }
  }
}

function check(w: Tracked, model: Model): void {
  const [start, end] = w.range;
  const expected = model.log
    .filter(({ event, key: k }) => event.kv.modRevision >= w.start && inRange(k, start, end))
    .filter(({ event }) => (event.type === 'PUT' ? w.filter !== 1 : w.filter !== 2))
    .map(({ event }) => row(event, w.prevKv));
  const got = w.taken.flatMap((batch) => batch.events.map((e) => row(e, true)));
  if (w.compactedAt !== undefined || w.cancelled) {
    assert.deepEqual(got, expected.slice(0, got.length), 'a prefix of the history');
    if (w.compactedAt !== undefined) {
      assert.equal(w.watcher.state, 'cancelled');
      assert.ok(w.start < w.compactedAt);
      const lastMod = w.taken.flatMap((batch) => batch.events).at(-1)?.kv.modRevision ?? 0;
      assert.ok(lastMod < w.compactedAt, 'compacted only when it had not reached the compaction');
    }
    return;
  }
  assert.equal(w.watcher.state, 'synced');
  assert.deepEqual(got, expected);
}

test('watcher group - range matching agrees with a linear scan', () => {
  const keyArb = fc.string({ unit: fc.constantFrom('\x00', 'a', 'b', '\xff'), maxLength: 3 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(keyArb, fc.option(keyArb, { nil: undefined }), fc.boolean()), {
        maxLength: 40,
      }),
      fc.array(keyArb, { minLength: 1, maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (specs, probes, removals) => {
        type W = {
          id: number;
          range: ReturnType<typeof watchedRange>;
          raw: [string, string | undefined];
        };
        const group = new WatcherGroup<W>();
        let members: W[] = specs.map(([k, e, fromKey], id) => {
          const endRaw = fromKey ? '\x00' : e;
          const w: W = {
            id,
            range: watchedRange(bytes(k), endRaw === undefined ? undefined : bytes(endRaw)),
            raw: [k, endRaw],
          };
          group.add(w);
          return w;
        });
        for (const r of removals) {
          const victim = members[r % Math.max(1, members.length)];
          if (victim === undefined) continue;
          assert.equal(group.delete(victim), true);
          members = members.filter((m) => m !== victim);
        }
        assert.equal(group.size, members.length);
        for (const probe of probes) {
          const found: number[] = [];
          group.forEachMatch(probe, (w) => found.push(w.id));
          const naive = members
            .filter(({ raw: [k, e] }) =>
              e === undefined || e === '' ? probe === k : inRange(probe, k, e),
            )
            .map((w) => w.id);
          assert.deepEqual(found.sort((x, y) => x - y), naive.sort((x, y) => x - y));
        }
      },
    ),
    { numRuns: 300 },
  );
});
