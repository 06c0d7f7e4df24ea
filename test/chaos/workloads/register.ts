// The register workload: workers read (linearizable Range), write (Put) and compare-and-set (Txn
// on the value or on the mod revision, then Put) a few keys. Values are unique, so a cas on a
// mod revision read with value v is a cas on v. A key is retired after `opsPerKeyMax`
// operations and replaced by a fresh one, which keeps each key's history small enough for the
// linearizability search even with many unknown outcomes.
import { SeededRng } from '../../../src/util/rng.ts';
import { checkRegister, type RegisterInput, type RegisterOutput } from '../checkers/register.ts';
import type { Verdict } from '../checkers/verdict.ts';
import { Session } from '../client/rpc.ts';
import type { Pending } from '../history.ts';
import {
  type CheckContext, runWorkers, settleError, sleep, untilOk, utf8, type Workload, type WorkloadContext,
} from './workload.ts';

const CMP_EQUAL = 0;
const TARGET_VERSION = 0;
const TARGET_MOD = 2;
const TARGET_VALUE = 3;

/** Options of the register workload. */
export interface RegisterOptions {
  workers?: number;
  /** Keys in use at a time. */
  keys?: number;
  /** Operations on a key before it is replaced by a fresh one. */
  opsPerKeyMax?: number;
}

/** The register workload. */
export function registerWorkload(options: RegisterOptions = {}): Workload {
  const workers = options.workers ?? 4;
  const slots = Array.from({ length: options.keys ?? 3 }, () => ({ generation: 0, ops: 0 }));
  const opsPerKeyMax = options.opsPerKeyMax ?? 120;
  const used = new Set<string>();

  const keyOf = (ctx: WorkloadContext, slot: number): string => {
    const s = slots[slot]!;
    if (s.ops >= opsPerKeyMax) {
      s.generation++;
      s.ops = 0;
    }
    s.ops++;
    const key = `${ctx.prefix}reg/${slot}.${s.generation}`;
    used.add(key);
    return key;
  };

  async function worker(ctx: WorkloadContext, index: number): Promise<void> {
    const process = ctx.nextProcess();
    const rng = new SeededRng(ctx.rng.next());
    const session = new Session(() => ctx.endpoints(), { start: index });
    /** What this worker last read of each key: the value and its mod revision. */
    const seen = new Map<string, { value: string | null; modRevision: number }>();
    let counter = 0;
    try {
      while (!ctx.signal.aborted) {
        const key = keyOf(ctx, rng.int(slots.length));
        const dice = rng.float();
        if (dice < 0.4) await read(ctx, session, process, key, seen);
        else if (dice < 0.7) await write(ctx, session, process, key, `${process}.${++counter}`);
        else {
          const last = seen.get(key) ?? { value: null, modRevision: 0 };
          const by = rng.chance(0.5) ? 'value' : 'mod-revision';
          await cas(ctx, session, process, { key, expected: last, value: `${process}.${++counter}`, by });
        }
        await sleep(rng.int(10), ctx.signal);
      }
    } finally {
      session.close();
    }
  }

  return {
    name: 'register',
    run: (ctx) => runWorkers(workers, (i) => worker(ctx, i)),
    async check(ctx: WorkloadContext, check: CheckContext): Promise<Verdict> {
      const process = ctx.nextProcess();
      for (const key of [...used].sort()) {
        await untilOk(ctx, `final read of ${key}`, async (client) => {
          const pending = invoke(ctx, process, { op: 'read', key }, client.endpoint);
          try {
            const res = await client.range({ key });
            const kv = res.kvs[0];
            pending.ok({ value: kv === undefined ? null : utf8(kv.value), revision: res.header?.revision ?? 0 });
          } catch (err) {
            pending.failed(String(err));
            throw err;
          }
        });
      }
      return checkRegister(ctx.history.of('register'), { timeoutMs: check.checkTimeoutMs });
    },
  };
}

/** Records the invocation of a register operation sent to `endpoint`. */
function invoke(
  ctx: WorkloadContext,
  process: number,
  input: RegisterInput,
  endpoint: string,
): Pending<RegisterInput, RegisterOutput> {
  return ctx.history.invoke('register', process, input, { endpoint });
}

async function read(
  ctx: WorkloadContext,
  session: Session,
  process: number,
  key: string,
  seen: Map<string, { value: string | null; modRevision: number }>,
): Promise<void> {
  const pending = invoke(ctx, process, { op: 'read', key }, session.endpoint);
  try {
    const res = await session.client.range({ key });
    const kv = res.kvs[0];
    const value = kv === undefined ? null : utf8(kv.value);
    seen.set(key, { value, modRevision: kv?.modRevision ?? 0 });
    pending.ok({ value, revision: res.header?.revision ?? 0 });
  } catch (err) {
    // A read has no effect: any error means it observed nothing.
    pending.failed(String((err as Error).message ?? err));
    session.failover();
  }
}

async function write(
  ctx: WorkloadContext,
  session: Session,
  process: number,
  key: string,
  value: string,
): Promise<void> {
  const pending = invoke(ctx, process, { op: 'write', key, value }, session.endpoint);
  try {
    const res = await session.client.put({ key, value });
    pending.ok({ revision: res.header?.revision ?? 0 });
  } catch (err) {
    settleError(pending, err, session);
  }
}

interface CasRequest {
  key: string;
  expected: { value: string | null; modRevision: number };
  value: string;
  by: 'value' | 'mod-revision';
}

async function cas(
  ctx: WorkloadContext,
  session: Session,
  process: number,
  r: CasRequest,
): Promise<void> {
  const input: RegisterInput = {
    op: 'cas', key: r.key, expected: r.expected.value, value: r.value, by: r.by,
    ...(r.by === 'mod-revision' ? { modRevision: r.expected.modRevision } : {}),
  };
  const compare = r.by === 'mod-revision'
    ? { result: CMP_EQUAL, target: TARGET_MOD, key: r.key, modRevision: r.expected.modRevision }
    : r.expected.value === null
      ? { result: CMP_EQUAL, target: TARGET_VERSION, key: r.key, version: 0 }
      : { result: CMP_EQUAL, target: TARGET_VALUE, key: r.key, value: r.expected.value };
  const pending = invoke(ctx, process, input, session.endpoint);
  try {
    const res = await session.client.txn({
      compare: [compare],
      success: [{ requestPut: { key: r.key, value: r.value } }],
    });
    const output = { succeeded: res.succeeded, revision: res.header?.revision ?? 0 };
    if (res.succeeded) pending.ok(output);
    else pending.failed('compare failed', output);
  } catch (err) {
    settleError(pending, err, session);
  }
}
