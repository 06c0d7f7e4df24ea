// With no leader (two of three members stopped), the survivor still answers what needs no quorum
// (Status, serializable reads) and fails the rest within a bounded time, never hanging, with
// etcd's errors. etcd 3.4 itself, with no client deadline, answers after its request timeout
// (5 s + 2 election timeouts): a put "UNKNOWN: context deadline exceeded" (the proposal never
// reached raft), a linearizable read "UNAVAILABLE: etcdserver: request timed out"; a request
// carrying the `hasleader` metadata (clientv3.WithRequireLeader) fails at once with
// "UNAVAILABLE: etcdserver: no leader". etcdctl (5 s command timeout) prints
// "Error: context deadline exceeded" or "Error: etcdserver: request timed out" and exits 1.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterBinary, clusterSkip, waitFor, withCluster } from './cluster.ts';
import { etcdctl } from '../etcdctl-side.ts';
import { describeError } from './grpc-client.ts';
import { CLUSTER_TEST_TIMEOUT_MS } from './load.ts';

/** A request with no leader must fail within this (a bound on hanging, not on speed). */
const FAIL_WITHIN_MS = 30_000;
const NO_LEADER = 'UNAVAILABLE: etcdserver: no leader';
const TIMED_OUT = 'UNAVAILABLE: etcdserver: request timed out';
/** What etcd answers, or the "no leader", which etcd gives with `hasleader`. */
const PUT_FAILURES = ['UNKNOWN: context deadline exceeded', TIMED_OUT, NO_LEADER];
const READ_FAILURES = [TIMED_OUT, NO_LEADER];
const CTL_FAILURES = ['Error: context deadline exceeded', 'Error: etcdserver: request timed out', 'Error: etcdserver: no leader'];

/** Runs `call`; returns how it failed and after how long (throws if it succeeded). */
async function failure(call: () => Promise<unknown>): Promise<{ status: string; ms: number }> {
  const start = Date.now();
  try {
    await call();
  } catch (err) {
    return { status: describeError(err), ms: Date.now() - start };
  }
  throw new Error('the call succeeded with no leader');
}

describe(`cluster (${clusterBinary}) - no leader`, { skip: clusterSkip() }, () => {
  test('with two of three members stopped, requests to the survivor fail in bounded time with etcd\'s errors', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async (t) => {
    await withCluster({ size: 3 }, async (c) => {
      await c.members[0]!.client.put('before', 'quorum lost');
      const survivor = c.members[0]!;
      await Promise.all(c.members.slice(1).map((m) => m.stop()));
      const status = await waitFor('the survivor to know it has no leader', async () => {
        const s = await survivor.client.status({ deadlineMs: 5000 });
        return s.leader === 0n ? s : undefined;
      });

      const client = survivor.client;
      const noDeadline = { deadlineMs: 120_000 };
      const [put, read, putRequiringLeader, readRequiringLeader, ctlPut, ctlGet, ctlHealth, serializable, health] = await Promise.all([
        failure(() => client.put('during', 'no leader', noDeadline)),
        failure(() => client.range('before', noDeadline)),
        failure(() => client.put('during', 'no leader', { ...noDeadline, metadata: { hasleader: 'true' } })),
        failure(() => client.range('before', { ...noDeadline, metadata: { hasleader: 'true' } })),
        etcdctl(survivor.endpoint, ['put', 'during', 'etcdctl']),
        etcdctl(survivor.endpoint, ['get', 'before']),
        etcdctl(survivor.endpoint, ['endpoint', 'health']),
        client.range('before', { serializable: true }),
        fetch(`${survivor.clientUrl}/health`, { signal: AbortSignal.timeout(FAIL_WITHIN_MS) }),
      ]);
      t.diagnostic(`put: ${put.status} after ${put.ms} ms; linearizable read: ${read.status} after ${read.ms} ms`);
      t.diagnostic(`etcdctl put: ${ctlPut.code} ${ctlPut.error}; get: ${ctlGet.code} ${ctlGet.error}`);

      // Every difference from etcd at once, rather than the first.
      const problems: string[] = [];
      const check = (ok: boolean, what: string): void => {
        if (!ok) problems.push(what);
      };
      check(
        status.errors.length === 1 && status.errors[0] === 'etcdserver: no leader',
        `Status errors are ["etcdserver: no leader"]: ${JSON.stringify(status.errors)}`,
      );
      for (const [what, f, allowed] of [['put', put, PUT_FAILURES], ['linearizable read', read, READ_FAILURES]] as const) {
        check(allowed.includes(f.status), `${what} fails with one of ${JSON.stringify(allowed)}: ${f.status}`);
        check(f.ms < FAIL_WITHIN_MS, `${what} fails within ${FAIL_WITHIN_MS} ms: ${f.ms} ms`);
      }
      check(putRequiringLeader.status === NO_LEADER, `put with hasleader: ${putRequiringLeader.status}`);
      check(readRequiringLeader.status === NO_LEADER, `read with hasleader: ${readRequiringLeader.status}`);
      for (const [what, r] of [['put', ctlPut], ['get', ctlGet]] as const) {
        check(r.code === 1 && CTL_FAILURES.includes(r.error), `etcdctl ${what} exits 1 with one of ${JSON.stringify(CTL_FAILURES)}: ${r.code} ${r.error}`);
      }
      check(ctlHealth.code === 1 && ctlHealth.error === 'Error: unhealthy cluster', `etcdctl endpoint health: ${ctlHealth.code} ${ctlHealth.error}`);
      check(
        new RegExp(`^${survivor.endpoint} is unhealthy: failed to commit proposal: `, 'm').test(ctlHealth.stdout + ctlHealth.stderr),
        `etcdctl endpoint health prints "<endpoint> is unhealthy: failed to commit proposal: ...": ${ctlHealth.stdout}${ctlHealth.stderr}`,
      );
      check(Buffer.from(serializable.kvs[0]?.value ?? []).toString() === 'quorum lost', 'serializable reads are served locally');
      const healthBody = await health.text();
      check(
        health.status === 503 && JSON.stringify(JSON.parse(healthBody)) === '{"health":"false"}',
        `GET /health: 503 {"health":"false"} (etcd adds a newline): ${health.status} ${JSON.stringify(healthBody)}`,
      );
      assert.deepEqual(problems, [], 'differences from etcd with no leader');

      // A quorum again: the same survivor takes writes.
      c.members[1]!.start();
      await c.waitHealthy([survivor, c.members[1]!]);
      await c.leader([survivor, c.members[1]!]);
      await survivor.client.put('after', 'quorum back');
    });
  });
});
