// A member whose flags disagree with the cluster never merges into it. As etcd 3.4 does: a name
// missing from --initial-cluster, or --initial-advertise-peer-urls differing from its entry there,
// exits with status 1 and etcd's message before anything else; a wrong --initial-cluster-token
// starts, derives other member and cluster ids, and stays apart: the cluster's members refuse its
// messages (cluster ID mismatch), it never gets a leader and (etcd) never serves clients.
// Afterwards the recipe's own flags join.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { clusterBinary, clusterSkip, freePortOn, sleep, withCluster } from './cluster.ts';
import { memberList } from './ctl.ts';
import { etcdMemberId, hexId } from './etcd-ids.ts';
import { CLUSTER_TEST_TIMEOUT_MS, verifyCluster } from './load.ts';
import { GrpcCallError } from './grpc-client.ts';

/** How long a wrongly configured member is watched for not joining. */
const APART_WINDOW_MS = 8_000;
/** How long a refused start may take to exit (a failure bound). */
const EXIT_TIMEOUT_MS = 60_000;

describe(`cluster (${clusterBinary}) - a member with wrong flags is refused`, { skip: clusterSkip() }, () => {
  test('a wrong name or peer URL exits 1 with etcd\'s message; a wrong token never merges', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async () => {
    // n1 and n2 form the cluster (two of three is a quorum); n3 is started wrongly, then rightly.
    await withCluster({ size: 3, startOnly: [0, 1] }, async (c) => {
      const n3 = c.members[2]!;
      const good = [c.members[0]!, c.members[1]!];
      const clusterId = (await good[0]!.client.status()).header!.clusterId;
      await good[0]!.client.put('before', 'n3');

      // A name that is not in --initial-cluster.
      n3.start({ name: 'n9' });
      const byName = await n3.waitExit(EXIT_TIMEOUT_MS);
      assert.deepEqual(byName, { code: 1, signal: null }, `exit of a member named n9:\n${n3.currentLog()}`);
      assert.match(n3.currentLog(), /couldn't find local name "n9" in the initial cluster configuration/);

      // --initial-advertise-peer-urls that is not n3's entry in --initial-cluster.
      n3.wipe();
      const otherUrl = `http://${n3.host}:${await freePortOn(n3.host)}`;
      n3.start({ initialAdvertisePeerUrls: otherUrl });
      const byUrl = await n3.waitExit(EXIT_TIMEOUT_MS);
      assert.deepEqual(byUrl, { code: 1, signal: null }, `exit of a member with a mismatched peer URL:\n${n3.currentLog()}`);
      assert.ok(
        n3.currentLog().includes(`--initial-cluster has n3=${n3.peerUrl} but missing from --initial-advertise-peer-urls=${otherUrl}`),
        `etcd's message for the URL mismatch:\n${n3.currentLog()}`,
      );

      // A wrong token: other ids, so the cluster refuses it and it never has a leader.
      n3.wipe();
      n3.start({ initialClusterToken: 'wrong-token' });
      await sleep(APART_WINDOW_MS);
      assert.equal(n3.running, true, `etcd keeps a member with a wrong token running:\n${n3.currentLog()}`);
      // etcd does not serve clients before it has joined a cluster: its client port stays silent.
      // A member that answers must at least be apart: another cluster id, no leader, no data.
      try {
        const apart = await n3.client.status({ deadlineMs: 3000 });
        assert.notEqual(apart.header!.clusterId, clusterId, 'another cluster id');
        assert.equal(apart.header!.memberId, etcdMemberId([n3.peerUrl], 'wrong-token'), 'the id the wrong token derives');
        assert.equal(apart.leader, 0n, 'no leader, ever');
        const seen = await n3.client.range('before', { serializable: true, deadlineMs: 3000 });
        assert.equal(seen.kvs.length, 0, 'none of the cluster\'s data');
      } catch (err) {
        if (!(err instanceof GrpcCallError)) throw err;
        assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED, `the client port is silent, as etcd's: ${err.status}`);
      }
      const listed = await memberList(c.endpoints(good));
      const rightId = hexId(etcdMemberId([n3.peerUrl], c.token));
      // NB: etcd names the members of --initial-cluster from the start, so etcdctl shows a member
      // that never ran as "started"; only the client URLs, published when it joins, tell.
      assert.deepEqual(
        listed.filter((l) => l.id === rightId).map((l) => `${l.status} ${l.name} ${l.clientUrls}`),
        ['started n3 '],
        'n3 never published its client URLs to the cluster',
      );
      assert.equal(listed.length, 3);
      assert.match(good.map((m) => m.logs()).join('\n') + n3.currentLog(), /cluster ID mismatch/);
      await n3.kill9();

      // The recipe's own flags: n3 joins.
      n3.wipe();
      n3.start();
      await c.waitHealthy();
      await c.leader();
      const joined = await memberList(c.endpoints());
      assert.deepEqual(joined.filter((l) => l.id === rightId).map((l) => `${l.status} ${l.name} ${l.clientUrls}`), [`started n3 ${n3.clientUrl}`]);
      assert.equal((await n3.client.range('before')).kvs.length, 1);
      await verifyCluster(c, new Map());
    });
  });
});
