// `etcdctl member add` of a voter under a write load, then the new member started with the
// environment etcdctl printed (--initial-cluster-state existing): it joins, catches up and takes
// writes; nothing acknowledged is lost and HashKV is equal on all four members.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterBinary, clusterSkip, withCluster } from './cluster.ts';
import { addAndStart, memberList } from './ctl.ts';
import { paddedHexId } from './etcd-ids.ts';
import { CLUSTER_TEST_TIMEOUT_MS, underLoad, verifyCluster } from './load.ts';

describe(`cluster (${clusterBinary}) - member add`, { skip: clusterSkip() }, () => {
  test('a voter added under load joins with --initial-cluster-state existing; nothing acknowledged lost', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async (t) => {
    await withCluster({ size: 3 }, async (c) => {
      const clusterId = (await c.members[0]!.client.status()).header!.clusterId;
      const load = await underLoad(c, async (load) => {
        const { member, added } = await addAndStart(c);
        // What etcdctl prints: the ids with %16x, then the new member's environment, the
        // members in id order.
        const everyone = c.members.map((m) => ({ id: m.id!, pair: `${m.name}=${m.peerUrl}` })).sort((a, b) => (a.id < b.id ? -1 : 1));
        assert.equal(
          added.stdout,
          `Member ${paddedHexId(added.id)} added to cluster ${paddedHexId(clusterId)}\n\n` +
            `ETCD_NAME="${member.name}"\n` +
            `ETCD_INITIAL_CLUSTER="${everyone.map((e) => e.pair).join(',')}"\n` +
            `ETCD_INITIAL_ADVERTISE_PEER_URLS="${member.peerUrl}"\n` +
            'ETCD_INITIAL_CLUSTER_STATE="existing"\n',
        );
        await c.waitHealthy();
        assert.equal((await member.client.status()).header!.memberId, added.id, 'the new member runs with the id member add gave');
        await load.progress(200);
        const listed = await memberList(c.endpoints());
        assert.deepEqual(
          listed.map((l) => `${l.name} ${l.status} ${l.clientUrls} ${l.isLearner}`).sort(),
          c.members.map((m) => `${m.name} started ${m.clientUrl} false`).sort(),
        );
      });
      const verified = await verifyCluster(c, load.acked);
      assert.equal(c.running().length, 4);
      t.diagnostic(`acknowledged ${verified.keys}; failed puts: ${load.describeFailures()}`);
    });
  });
});
