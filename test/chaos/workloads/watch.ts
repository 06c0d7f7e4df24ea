// The watch workload: writers put unique values (alone or two in one txn) and delete keys under
// a prefix; watchers follow the prefix from a common start revision, each starting on a
// different member, and on any failure reconnect to the next member from the revision after the
// last event they saw. After the run the prefix's true history is read back revision by
// revision (Range at each revision) and every watcher is compared with it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRng } from '../../../src/util/rng.ts';
import type { KeyValue, WatchResponse } from '../../../src/proto/index.ts';
import {
  checkWatch, type WatchEvent, type WatcherLog, type WatchWriteInput, type WatchWriteOutput,
} from '../checkers/watch.ts';
import type { Verdict } from '../checkers/verdict.ts';
import { errorText } from '../client/errors.ts';
import { EtcdClient, Session, type WatchStream } from '../client/rpc.ts';
import {
  type CheckContext, runWorkers, settleError, sleep, untilOk, utf8, type Workload, type WorkloadContext,
} from './workload.ts';

/** Options of the watch workload. */
export interface WatchOptions {
  writers?: number;
  watchers?: number;
  keys?: number;
  /** A watcher that has not caught up this long after the run is reconnected, in ms. */
  catchUpStallMs?: number;
}

const EVENT_DELETE = 1;
/** Historical ranges per read-only txn when reading the history back (etcd allows 128 ops). */
const REVISIONS_PER_TXN = 64;

/** One watcher: its log and its current stream. */
class Watcher {
  readonly log: WatcherLog;
  #stream: WatchStream | undefined;
  #client: EtcdClient | undefined;
  #position: number;
  #stopped = false;
  #lastProgressMs = performance.now();

  constructor(
    readonly ctx: WorkloadContext,
    id: number,
    readonly prefix: string,
    startRevision: number,
  ) {
    this.log = { id, startRevision, events: [], connections: [] };
    this.#position = id;
  }

  get lastRevision(): number {
    return this.log.events.at(-1)?.revision ?? this.log.startRevision - 1;
  }

  get idleMs(): number {
    return performance.now() - this.#lastProgressMs;
  }

  connect(): void {
    if (this.#stopped) return;
    const endpoints = this.ctx.endpoints();
    const endpoint = endpoints[this.#position % endpoints.length]!;
    const from = this.lastRevision + 1;
    this.log.connections.push(`${this.ctx.history.now().toFixed(1)}ms from rev ${from} @${endpoint}`);
    this.#client = new EtcdClient(endpoint);
    const rangeEnd = prefixEnd(this.prefix);
    this.#stream = this.#client.watch(
      { key: this.prefix, rangeEnd, startRevision: from },
      {
        onResponse: (res) => this.#onResponse(res),
        onClose: (err) => this.#reconnect(`closed: ${errorText(err)}`),
      },
    );
  }

  /** Drops the stream and reconnects elsewhere (a stalled stream at the end of the run). */
  kick(): void {
    this.#stream?.cancel();
  }

  stop(): void {
    this.#stopped = true;
    this.#stream?.cancel();
    this.#client?.close();
  }

  #onResponse(res: WatchResponse): void {
    if (res.canceled || res.compactRevision > 0) {
      this.log.connections.push(
        `${this.ctx.history.now().toFixed(1)}ms canceled: ${res.cancelReason} compact=${res.compactRevision}`,
      );
      this.#stream?.cancel();
      return;
    }
    for (const e of res.events) {
      this.log.events.push(toEvent(e.type, e.kv));
      this.#lastProgressMs = performance.now();
    }
  }

  #reconnect(why: string): void {
    this.#client?.close();
    this.#client = undefined;
    this.#stream = undefined;
    if (this.#stopped) return;
    this.log.connections.push(`${this.ctx.history.now().toFixed(1)}ms ${why}`);
    this.#position++;
    setTimeout(() => this.connect(), 100);
  }
}

function toEvent(type: number, kv: KeyValue | undefined): WatchEvent {
  return {
    revision: kv?.modRevision ?? 0,
    key: kv === undefined ? '' : utf8(kv.key),
    type: type === EVENT_DELETE ? 'delete' : 'put',
    value: type === EVENT_DELETE || kv === undefined ? null : utf8(kv.value),
  };
}

/** The end of the range of keys starting with `prefix`. */
export function prefixEnd(prefix: string): Uint8Array {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i]!++;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** The watch workload. */
export function watchWorkload(options: WatchOptions = {}): Workload {
  const writerCount = options.writers ?? 2;
  const watcherCount = options.watchers ?? 3;
  const keyCount = options.keys ?? 5;
  let startRevision = 0;
  const watchers: Watcher[] = [];
  const prefixOf = (ctx: WorkloadContext): string => `${ctx.prefix}watch/`;

  async function writer(ctx: WorkloadContext, index: number): Promise<void> {
    const process = ctx.nextProcess();
    const rng = new SeededRng(ctx.rng.next());
    const session = new Session(() => ctx.endpoints(), { start: index + 2 });
    const keys = Array.from({ length: keyCount }, (_, k) => `${prefixOf(ctx)}${k}`);
    let counter = 0;
    try {
      while (!ctx.signal.aborted) {
        const dice = rng.float();
        const input: WatchWriteInput = dice < 0.6
          ? { op: 'put', puts: [{ key: rng.pick(keys), value: `${process}.${++counter}` }] }
          : dice < 0.8
            ? { op: 'put', puts: twoKeys(rng, keys).map((key) => ({ key, value: `${process}.${++counter}` })) }
            : { op: 'delete', key: rng.pick(keys) };
        const pending = ctx.history.invoke<WatchWriteInput, WatchWriteOutput>(
          'watch', process, input, { endpoint: session.endpoint },
        );
        try {
          if (input.op === 'delete') {
            const res = await session.client.txn({ success: [{ requestDeleteRange: { key: input.key } }] });
            const deleted = res.responses[0]?.responseDeleteRange?.deleted ?? 0;
            pending.ok({ revision: res.header?.revision ?? 0, deleted });
          } else {
            const res = await session.client.txn({ success: input.puts.map((p) => ({ requestPut: p })) });
            pending.ok({ revision: res.header?.revision ?? 0 });
          }
        } catch (err) {
          settleError(pending, err, session);
        }
        await sleep(5 + rng.int(20), ctx.signal);
      }
    } finally {
      session.close();
    }
  }

  return {
    name: 'watch',
    async run(ctx) {
      const head = await untilOk(ctx, 'the start revision', (c) => c.range({ key: prefixOf(ctx) }));
      startRevision = (head.header?.revision ?? 0) + 1;
      for (let i = 0; i < watcherCount; i++) {
        const w = new Watcher(ctx, i, prefixOf(ctx), startRevision);
        watchers.push(w);
        w.connect();
      }
      await runWorkers(writerCount, (i) => writer(ctx, i));
    },
    async check(ctx: WorkloadContext, check: CheckContext): Promise<Verdict> {
      const head = await untilOk(ctx, 'the final revision', (c) => c.range({ key: prefixOf(ctx) }));
      const finalRevision = head.header?.revision ?? 0;
      const reference = await readHistory(ctx, prefixOf(ctx), startRevision, finalRevision);
      await catchUp(ctx, watchers, reference.at(-1)?.revision ?? 0, options.catchUpStallMs ?? 5_000);
      for (const w of watchers) w.stop();
      const input = {
        reference,
        startRevision,
        finalRevision,
        watchers: watchers.map((w) => w.log),
        writes: ctx.history.of<WatchWriteInput, WatchWriteOutput>('watch'),
      };
      const { writes: _writes, ...compared } = input;
      writeFileSync(join(check.workDir, 'watch.json'), JSON.stringify(compared));
      return checkWatch(input);
    },
  };
}

function twoKeys(rng: SeededRng, keys: string[]): string[] {
  const a = rng.int(keys.length);
  return [keys[a]!, keys[(a + 1 + rng.int(keys.length - 1)) % keys.length]!];
}

/** Waits until every watcher has seen `lastRevision`, kicking any that stalls (up to 60 s). */
async function catchUp(
  ctx: WorkloadContext,
  watchers: Watcher[],
  lastRevision: number,
  stallMs: number,
): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const behind = watchers.filter((w) => w.lastRevision < lastRevision);
    if (behind.length === 0) return;
    for (const w of behind) {
      if (w.idleMs > stallMs) {
        ctx.log(`watcher ${w.log.id} stalled at revision ${w.lastRevision} (< ${lastRevision}): reconnecting`);
        w.kick();
      }
    }
    await sleep(200);
  }
  ctx.log(`watch: some watchers did not reach revision ${lastRevision} within 60 s`);
}

/**
 * The prefix's events in [from, to]: the key space under the prefix at every revision, each
 * compared with the one before (a put shows as a key whose mod revision is that revision, a
 * delete as a key gone). Each read-only txn reads 64 revisions; 8 run at a time.
 */
export async function readHistory(
  ctx: WorkloadContext,
  prefix: string,
  from: number,
  to: number,
): Promise<WatchEvent[]> {
  const rangeEnd = prefixEnd(prefix);
  const states = new Map<number, Map<string, KeyValue>>();
  const revisions: number[] = [];
  for (let r = Math.max(1, from - 1); r <= to; r++) revisions.push(r);
  const batches: number[][] = [];
  for (let i = 0; i < revisions.length; i += REVISIONS_PER_TXN) {
    batches.push(revisions.slice(i, i + REVISIONS_PER_TXN));
  }
  let next = 0;
  await runWorkers(8, async (i) => {
    const session = new Session(() => ctx.endpoints(), { start: i, timeoutMs: 10_000 });
    try {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const deadline = performance.now() + 60_000;
        for (;;) {
          try {
            // One read-only txn of historical ranges: a consistent view of many revisions.
            const res = await session.client.txn({
              success: batch.map((revision) => ({ requestRange: { key: prefix, rangeEnd, revision } })),
            });
            batch.forEach((revision, k) => {
              const kvs = res.responses[k]?.responseRange?.kvs ?? [];
              states.set(revision, new Map(kvs.map((kv) => [utf8(kv.key), kv])));
            });
            break;
          } catch (err) {
            session.failover();
            if (performance.now() > deadline) {
              const what = `revisions ${batch[0]!}..${batch.at(-1)!}`;
              throw new Error(`chaos: cannot read ${what}: ${errorText(err)}`, { cause: err });
            }
            await sleep(200);
          }
        }
      }
    } finally {
      session.close();
    }
  });
  const events: WatchEvent[] = [];
  let before = states.get(from - 1) ?? new Map<string, KeyValue>();
  for (let revision = Math.max(1, from); revision <= to; revision++) {
    const after = states.get(revision)!;
    for (const [key, kv] of [...after].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (kv.modRevision === revision) events.push({ revision, key, type: 'put', value: utf8(kv.value) });
    }
    for (const key of [...before.keys()].sort()) {
      if (!after.has(key)) events.push({ revision, key, type: 'delete', value: null });
    }
    before = after;
  }
  return events;
}
