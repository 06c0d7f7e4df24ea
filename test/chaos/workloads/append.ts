// The append workload: each key holds a list (values separated by spaces). A worker reads all
// keys of the current generation in one transaction (a snapshot, recorded as a read), then
// appends a unique value to one or two of them in a second transaction guarded by the mod
// revisions it read. When a list grows past `listLengthMax` the workload moves to a fresh
// generation of keys, so lists stay short.
import { SeededRng } from '../../../src/util/rng.ts';
import type { RangeResponse } from '../../../src/proto/index.ts';
import { type AppendInput, type AppendOutput, type AppendPart, checkAppend } from '../checkers/append.ts';
import type { Verdict } from '../checkers/verdict.ts';
import type { EtcdClient } from '../client/rpc.ts';
import { Session } from '../client/rpc.ts';
import { errorText } from '../client/errors.ts';
import {
  type CheckContext, runWorkers, settleError, sleep, untilOk, utf8, type Workload, type WorkloadContext,
} from './workload.ts';

const CMP_EQUAL = 0;
const TARGET_MOD = 2;

/** Options of the append workload. */
export interface AppendOptions {
  workers?: number;
  /** Keys per generation. */
  keys?: number;
  listLengthMax?: number;
}

interface Snapshot {
  lists: Record<string, string[]>;
  modRevisions: Record<string, number>;
}

/** The append workload. */
export function appendWorkload(options: AppendOptions = {}): Workload {
  const workers = options.workers ?? 3;
  const keyCount = options.keys ?? 3;
  const listLengthMax = options.listLengthMax ?? 150;
  let generation = 0;
  const generations = new Set<number>([0]);
  const keysOf = (ctx: WorkloadContext, gen: number): string[] =>
    Array.from({ length: keyCount }, (_, k) => `${ctx.prefix}app/${gen}/${k}`);

  async function worker(ctx: WorkloadContext, index: number): Promise<void> {
    const process = ctx.nextProcess();
    const rng = new SeededRng(ctx.rng.next());
    const session = new Session(() => ctx.endpoints(), { start: index + 1 });
    let counter = 0;
    try {
      while (!ctx.signal.aborted) {
        const gen = generation;
        const keys = keysOf(ctx, gen);
        const snapshot = await readAll(ctx, session, process, keys);
        if (snapshot !== undefined && Object.values(snapshot.lists).some((l) => l.length >= listLengthMax)) {
          if (generation === gen) {
            generation++;
            generations.add(generation);
          }
        } else if (snapshot !== undefined && rng.chance(0.75)) {
          const chosen = rng.chance(0.3) ? pickTwo(rng, keys) : [rng.pick(keys)];
          const parts = chosen.map((key) => ({
            key,
            value: `${process}.${++counter}`,
            base: snapshot.lists[key]!,
            modRevision: snapshot.modRevisions[key]!,
          }));
          await append(ctx, session, process, parts);
        }
        await sleep(rng.int(10), ctx.signal);
      }
    } finally {
      session.close();
    }
  }

  return {
    name: 'append',
    run: (ctx) => runWorkers(workers, (i) => worker(ctx, i)),
    async check(ctx: WorkloadContext, _check: CheckContext): Promise<Verdict> {
      const process = ctx.nextProcess();
      const finals: Record<string, string[]> = {};
      for (const gen of [...generations].sort((a, b) => a - b)) {
        const keys = keysOf(ctx, gen);
        const snapshot = await untilOk(ctx, `final read of append generation ${gen}`, async (client) => {
          const s = await readAllOnce(ctx, client, process, keys);
          if (s === undefined) throw new Error('final read failed');
          return s;
        });
        Object.assign(finals, snapshot.lists);
      }
      return checkAppend(ctx.history.of('append'), finals);
    },
  };
}

function pickTwo(rng: SeededRng, keys: string[]): string[] {
  const a = rng.int(keys.length);
  const b = (a + 1 + rng.int(keys.length - 1)) % keys.length;
  return [keys[a]!, keys[b]!];
}

const parseList = (text: string): string[] => (text === '' ? [] : text.split(' '));

async function readAll(
  ctx: WorkloadContext,
  session: Session,
  process: number,
  keys: string[],
): Promise<Snapshot | undefined> {
  const snapshot = await readAllOnce(ctx, session.client, process, keys);
  if (snapshot === undefined) session.failover();
  return snapshot;
}

/** One transaction reading every key; recorded as a read. */
async function readAllOnce(
  ctx: WorkloadContext,
  client: EtcdClient,
  process: number,
  keys: string[],
): Promise<Snapshot | undefined> {
  const pending = ctx.history.invoke<AppendInput, AppendOutput>(
    'append', process, { op: 'read', keys }, { endpoint: client.endpoint },
  );
  try {
    const res = await client.txn({ success: keys.map((key) => ({ requestRange: { key } })) });
    const snapshot: Snapshot = { lists: {}, modRevisions: {} };
    keys.forEach((key, i) => {
      const kv = (res.responses[i]?.responseRange as RangeResponse | undefined)?.kvs[0];
      snapshot.lists[key] = kv === undefined ? [] : parseList(utf8(kv.value));
      snapshot.modRevisions[key] = kv?.modRevision ?? 0;
    });
    pending.ok({ lists: snapshot.lists });
    return snapshot;
  } catch (err) {
    pending.failed(errorText(err));
    return undefined;
  }
}

async function append(
  ctx: WorkloadContext,
  session: Session,
  process: number,
  parts: AppendPart[],
): Promise<void> {
  const pending = ctx.history.invoke<AppendInput, AppendOutput>(
    'append', process, { op: 'append', parts }, { endpoint: session.endpoint },
  );
  try {
    const res = await session.client.txn({
      compare: parts.map((p) => ({
        result: CMP_EQUAL, target: TARGET_MOD, key: p.key, modRevision: p.modRevision,
      })),
      success: parts.map((p) => ({ requestPut: { key: p.key, value: [...p.base, p.value].join(' ') } })),
    });
    if (res.succeeded) pending.ok({ succeeded: true });
    else pending.failed('compare failed', { succeeded: false });
  } catch (err) {
    settleError(pending, err, session);
  }
}
