// The lease workload: workers grant leases (a few seconds of TTL), put one or two keys under
// each, then keep the lease alive for a while and let it expire or revoke it, or let it expire
// at once, or revoke it soon; a reader lists the keys under the prefix with their leases. After
// the run every lease's remaining TTL is asked. The checker bounds when keys must be gone and
// when they must still be there (checkers/lease.ts).
import { SeededRng } from '../../../src/util/rng.ts';
import { checkLease, type LeaseInput, type LeaseOutput } from '../checkers/lease.ts';
import type { Verdict } from '../checkers/verdict.ts';
import { errorText } from '../client/errors.ts';
import { Session } from '../client/rpc.ts';
import type { Pending } from '../history.ts';
import {
  type CheckContext, runWorkers, settleError, sleep, untilOk, utf8, type Workload, type WorkloadContext,
} from './workload.ts';
import { prefixEnd } from './watch.ts';

/** Options of the lease workload. */
export interface LeaseOptions {
  workers?: number;
  /** TTLs to choose from, in seconds (etcd's minimum is about 2 s). */
  ttlSeconds?: number[];
  /** Time between two reads of the reader, in ms. */
  readIntervalMs?: number;
}

/** The lease workload. */
export function leaseWorkload(options: LeaseOptions = {}): Workload {
  const workers = options.workers ?? 3;
  const ttls = options.ttlSeconds ?? [3, 4, 5];
  const granted: string[] = [];
  const prefixOf = (ctx: WorkloadContext): string => `${ctx.prefix}lease/`;

  async function worker(ctx: WorkloadContext, index: number): Promise<void> {
    const process = ctx.nextProcess();
    const rng = new SeededRng(ctx.rng.next());
    const session = new Session(() => ctx.endpoints(), { start: index });
    type Call = <O>(input: LeaseInput, fn: (p: Pending<LeaseInput, LeaseOutput>) => Promise<O>)
      => Promise<O | undefined>;
    const call: Call = (input, fn) => record(ctx, session, process, input, fn);
    try {
      while (!ctx.signal.aborted) {
        const ttlSeconds = rng.pick(ttls);
        const lease = await call({ op: 'grant', ttlSeconds }, async (p) => {
          const res = await session.client.leaseGrant(ttlSeconds);
          if (res.error !== '') throw new Error(res.error);
          p.ok({ lease: res.ID.toString(), ttlSeconds: res.TTL });
          return res.ID;
        });
        if (lease === undefined) {
          await sleep(100, ctx.signal);
          continue;
        }
        granted.push(lease.toString());
        const keys = rng.chance(0.5) ? 1 : 2;
        for (let k = 0; k < keys; k++) {
          const key = `${prefixOf(ctx)}${lease.toString(16)}/${k}`;
          await call({ op: 'put', key, value: String(k), lease: lease.toString() }, async (p) => {
            const res = await session.client.put({ key, value: String(k), lease });
            p.ok({});
            return res;
          });
        }
        const fate = rng.float();
        if (fate < 0.4) {
          // Keep alive for two to three TTLs, then revoke or let it expire.
          const until = performance.now() + ttlSeconds * 1000 * (2 + rng.float());
          while (!ctx.signal.aborted && performance.now() < until) {
            await sleep(ttlSeconds * 1000 / 3, ctx.signal);
            const res = await call({ op: 'keepalive', lease: lease.toString() }, async (p) => {
              const res = await session.client.keepAliveOnce(lease);
              p.ok({ ttlSeconds: res.TTL });
              return res;
            });
            if (res !== undefined && res.TTL <= 0) break;
          }
          if (rng.chance(0.5)) await revoke(lease);
        } else if (fate < 0.7) {
          await sleep(ttlSeconds * 1000 * rng.float(), ctx.signal);
          await revoke(lease);
        }
        await sleep(50 + rng.int(200), ctx.signal);
      }
    } finally {
      session.close();
    }

    async function revoke(lease: bigint): Promise<void> {
      await call({ op: 'revoke', lease: lease.toString() }, async (p) => {
        await session.client.leaseRevoke(lease);
        p.ok({});
        return true;
      });
    }
  }

  async function reader(ctx: WorkloadContext): Promise<void> {
    const process = ctx.nextProcess();
    const session = new Session(() => ctx.endpoints(), { start: 0 });
    try {
      while (!ctx.signal.aborted) {
        await readKeys(ctx, session, process, prefixOf(ctx));
        await sleep(options.readIntervalMs ?? 100, ctx.signal);
      }
    } finally {
      session.close();
    }
  }

  return {
    name: 'lease',
    run: async (ctx) => {
      await Promise.all([runWorkers(workers, (i) => worker(ctx, i)), reader(ctx)]);
    },
    async check(ctx: WorkloadContext, check: CheckContext): Promise<Verdict> {
      const process = ctx.nextProcess();
      await untilOk(ctx, 'the final read of lease keys', async (client) => {
        const session = new Session(() => [client.endpoint], { start: 0 });
        try {
          if (!(await readKeys(ctx, session, process, prefixOf(ctx)))) throw new Error('read failed');
        } finally {
          session.close();
        }
      });
      const session = new Session(() => ctx.endpoints(), { start: 0, timeoutMs: 5_000 });
      try {
        for (const lease of granted) {
          await record(ctx, session, process, { op: 'ttl', lease }, async (p) => {
            const res = await session.client.leaseTimeToLive(BigInt(lease));
            p.ok({ ttlSeconds: res.TTL });
            return res;
          });
        }
      } finally {
        session.close();
      }
      return checkLease(ctx.history.of('lease'), {
        faults: check.faults,
        staleLeaderRenewals: check.staleLeaderRenewals,
      });
    },
  };
}

/** Records one call; errors settle it as failed or unknown (and reconnect). */
async function record<O>(
  ctx: WorkloadContext,
  session: Session,
  process: number,
  input: LeaseInput,
  fn: (p: Pending<LeaseInput, LeaseOutput>) => Promise<O>,
): Promise<O | undefined> {
  const pending = ctx.history.invoke<LeaseInput, LeaseOutput>(
    'lease', process, input, { endpoint: session.endpoint },
  );
  try {
    return await fn(pending);
  } catch (err) {
    if (input.op === 'read' || input.op === 'ttl') {
      pending.failed(errorText(err));
      session.failover();
    } else {
      settleError(pending, err, session);
    }
    return undefined;
  }
}

async function readKeys(
  ctx: WorkloadContext,
  session: Session,
  process: number,
  prefix: string,
): Promise<boolean> {
  const done = await record(ctx, session, process, { op: 'read', prefix }, async (p) => {
    const res = await session.client.range({ key: prefix, rangeEnd: prefixEnd(prefix) });
    const keys: Record<string, string> = {};
    for (const kv of res.kvs) keys[utf8(kv.key)] = kv.lease.toString();
    p.ok({ keys });
    return true;
  });
  return done === true;
}
