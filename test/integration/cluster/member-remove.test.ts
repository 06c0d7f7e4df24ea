// `etcdctl member remove` under a write load, of a follower and then of the leader: each removed
// member stops by itself, the others go on taking writes; nothing acknowledged is lost and
// HashKV is equal on the members left.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Cluster, type ClusterMember, type Exit, clusterBinary, clusterSkip, waitFor, withCluster } from './cluster.ts';
import { ctlRetry, memberList } from './ctl.ts';
import { paddedHexId } from './etcd-ids.ts';
import { CLUSTER_TEST_TIMEOUT_MS, underLoad, verifyCluster } from './load.ts';

/** How long a removed member may take to stop by itself (a failure bound). */
const SELF_STOP_TIMEOUT_MS = 60_000;

async function remove(c: Cluster, member: ClusterMember, clusterId: bigint): Promise<Exit> {
  const others = c.voters().filter((m) => m !== member);
  const { result } = await ctlRetry(() => c.endpoints(others), ['member', 'remove', member.hexId], [/etcdserver: unhealthy cluster/]);
  assert.equal(result.stdout, `Member ${paddedHexId(member.id!)} removed from cluster ${paddedHexId(clusterId)}\n`);
  member.removed = true;
  const exit = await member.waitExit(SELF_STOP_TIMEOUT_MS);
  assert.ok(exit !== undefined, `${member.name} stops by itself once removed:\n${member.currentLog().slice(-3000)}`);
  const listed = await waitFor('the member list without the removed member', async () => {
    const l = await memberList(c.endpoints(others));
    return l.some((x) => x.id === member.hexId) ? undefined : l;
  });
  assert.deepEqual(listed.map((l) => l.name).sort(), others.map((m) => m.name).sort());
  return exit;
}

describe(`cluster (${clusterBinary}) - member remove`, { skip: clusterSkip() }, () => {
  test('a removed follower, then a removed leader, stop by themselves; nothing acknowledged lost', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async (t) => {
    await withCluster({ size: 4 }, async (c) => {
      const clusterId = (await c.members[0]!.client.status()).header!.clusterId;
      const exits: string[] = [];
      const load = await underLoad(c, async (load) => {
        const follower = (await c.followers())[0]!;
        const followerExit = await remove(c, follower, clusterId);
        exits.push(`follower ${follower.name}: ${JSON.stringify(followerExit)}`);
        await c.leader();
        await load.progress(100);

        const leader = await c.leader();
        const leaderExit = await remove(c, leader, clusterId);
        exits.push(`leader ${leader.name}: ${JSON.stringify(leaderExit)}`);
        const next = await c.leader();
        assert.notEqual(next, leader);
        await load.progress(200);
      });
      assert.equal(c.voters().length, 2);
      const verified = await verifyCluster(c, load.acked);
      t.diagnostic(`exits: ${exits.join('; ')}; acknowledged ${verified.keys}; failed puts: ${load.describeFailures()}`);
    });
  });
});
