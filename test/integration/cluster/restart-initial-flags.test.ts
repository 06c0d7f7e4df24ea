// A member restarted on its existing data dir ignores the --initial-* flags, as etcd does: a new
// token, another --initial-cluster (even one without its name) or `existing` change nothing; it
// comes back as the same member of the same cluster. So does a whole cluster restarted so.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ClusterMember, clusterBinary, clusterSkip, withCluster } from './cluster.ts';
import { memberList } from './ctl.ts';
import { CLUSTER_TEST_TIMEOUT_MS, verifyCluster } from './load.ts';

describe(`cluster (${clusterBinary}) - restart with existing data`, { skip: clusterSkip() }, () => {
  test('a restart with an existing data dir ignores --initial-cluster-token, --initial-cluster and --initial-cluster-state', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async () => {
    await withCluster({ size: 3 }, async (c) => {
      const [n1, n2, n3] = c.members as [ClusterMember, ClusterMember, ClusterMember];
      const before = await n1.client.status();
      const clusterId = before.header!.clusterId;
      const listedBefore = (await memberList(c.endpoints())).map((l) => l.id).sort();
      const put = await n2.client.put('kept', 'before restart');

      // One member, with flags that would never bootstrap: a new token, a cluster without its name.
      await n1.stop();
      n1.start({
        initialClusterToken: 'another-token',
        initialCluster: `elsewhere=http://${n1.host}:1`,
        initialClusterState: 'existing',
      });
      await c.waitHealthy();
      const after = await n1.client.status();
      assert.equal(after.header!.memberId, before.header!.memberId, 'the same member id');
      assert.equal(after.header!.clusterId, clusterId, 'the same cluster id');
      const kept = await n1.client.range('kept');
      assert.equal(kept.kvs[0]?.modRevision, put.header!.revision);
      const second = await n1.client.put('through-n1', 'after restart');
      assert.equal((await n3.client.range('through-n1')).kvs[0]?.modRevision, second.header!.revision);

      // The whole cluster, every member with a new token and `new` again.
      await Promise.all(c.members.map((m) => m.stop()));
      for (const m of c.members) m.start({ initialClusterToken: 'token-02', initialClusterState: 'new' });
      await c.waitHealthy();
      await c.leader();
      for (const m of c.members) {
        const s = await m.client.status();
        assert.equal(s.header!.clusterId, clusterId, `${m.name}: the same cluster id`);
      }
      assert.deepEqual((await memberList(c.endpoints())).map((l) => l.id).sort(), listedBefore, 'the same three members');
      for (const m of c.members) {
        assert.equal((await m.client.range('through-n1')).kvs[0]?.modRevision, second.header!.revision, `${m.name} kept the data`);
      }
      await verifyCluster(c, new Map());
    });
  });
});
