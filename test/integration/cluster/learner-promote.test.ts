// `etcdctl member add --learner` under a write load, then `member promote`: refused with etcd's
// error while the learner has not caught up (here: before it even runs), served once it has. A
// running learner serves serializable reads and Status only. Afterwards nothing acknowledged is
// lost and HashKV is equal on all four members.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterBinary, clusterSkip, waitFor, withCluster } from './cluster.ts';
import { ctlRetry, memberAdd, memberList } from './ctl.ts';
import { paddedHexId } from './etcd-ids.ts';
import { describeError } from './grpc-client.ts';
import { etcdctl } from '../etcdctl-side.ts';
import { CLUSTER_TEST_TIMEOUT_MS, underLoad, verifyCluster } from './load.ts';

const NOT_IN_SYNC = 'etcdserver: can only promote a learner member which is in sync with leader';
const NOT_FOR_LEARNER = 'UNAVAILABLE: etcdserver: rpc not supported for learner';

describe(`cluster (${clusterBinary}) - learner`, { skip: clusterSkip() }, () => {
  test('a learner added under load is promoted once in sync, not before', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async (t) => {
    await withCluster({ size: 3 }, async (c) => {
      const clusterId = (await c.members[0]!.client.status()).header!.clusterId;
      let refusals: string[] = [];
      const load = await underLoad(c, async (load) => {
        const learner = await c.newMember();
        const added = await memberAdd(c, learner, { learner: true });
        const listed = await memberList(c.endpoints());
        assert.deepEqual(
          listed.filter((l) => l.id === learner.hexId),
          [{ id: learner.hexId, status: 'unstarted', name: '', peerUrls: learner.peerUrl, clientUrls: '', isLearner: 'true' }],
        );

        // Not running yet, so not in sync: refused.
        const early = await etcdctl(c.endpoints(), ['member', 'promote', learner.hexId]);
        assert.deepEqual({ code: early.code, error: early.error }, { code: 1, error: `Error: ${NOT_IN_SYNC}` });

        learner.start({ initialCluster: added.initialCluster, initialClusterState: 'existing' });
        const status = await waitFor('the learner to answer Status', async () => learner.client.status({ deadlineMs: 3000 }));
        assert.equal(status.isLearner, true);
        assert.equal(status.header!.memberId, added.id);
        await waitFor('the learner to serve a serializable read', async () => {
          const res = await learner.client.range('load/', { prefix: true, serializable: true, limit: 1 });
          return res.kvs.length > 0 ? true : undefined;
        });
        const outcome = async (call: Promise<unknown>): Promise<string> => call.then(() => 'ok', (err: unknown) => describeError(err));
        assert.deepEqual(
          { linearizableRead: await outcome(learner.client.range('load/')), put: await outcome(learner.client.put('on-learner', 'x')) },
          { linearizableRead: NOT_FOR_LEARNER, put: NOT_FOR_LEARNER },
          'a learner refuses what needs a voter',
        );

        const promoted = await ctlRetry(() => c.endpoints(), ['member', 'promote', learner.hexId], [new RegExp(NOT_IN_SYNC)]);
        refusals = promoted.refusals;
        assert.equal(promoted.result.stdout, `Member ${paddedHexId(added.id)} promoted in cluster ${paddedHexId(clusterId)}\n`);
        learner.learner = false;
        const after = await memberList(c.endpoints());
        assert.deepEqual(
          after.filter((l) => l.id === learner.hexId).map((l) => `${l.status} ${l.name} ${l.clientUrls} ${l.isLearner}`),
          [`started ${learner.name} ${learner.clientUrl} false`],
        );
        assert.equal((await learner.client.status()).isLearner, false);
        await c.waitHealthy();
        await load.progress(200);
      });
      const verified = await verifyCluster(c, load.acked);
      assert.equal(c.voters().length, 4);
      t.diagnostic(`promote refused ${refusals.length}× once running; acknowledged ${verified.keys}; failed puts: ${load.describeFailures()}`);
    });
  });
});
