// `etcdctl move-leader` under a write load: leadership goes to the chosen member, twice; etcdctl
// needs the leader among --endpoints and says so otherwise. Nothing acknowledged is lost and
// HashKV is equal on every member.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterBinary, clusterSkip, withCluster } from './cluster.ts';
import { ctlOk } from './ctl.ts';
import { etcdctl } from '../etcdctl-side.ts';
import { CLUSTER_TEST_TIMEOUT_MS, underLoad, verifyCluster } from './load.ts';

describe(`cluster (${clusterBinary}) - move-leader`, { skip: clusterSkip() }, () => {
  test('move-leader to a chosen member under load, twice; nothing acknowledged lost', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async (t) => {
    await withCluster({ size: 3 }, async (c) => {
      const load = await underLoad(c, async (load) => {
        for (let round = 0; round < 2; round++) {
          const leader = await c.leader();
          const target = (await c.followers())[round % 2]!;
          const res = await ctlOk(c.endpoints(), ['move-leader', target.hexId]);
          assert.equal(res.stdout, `Leadership transferred from ${leader.hexId} to ${target.hexId}\n`);
          assert.equal(await c.leader(), target);
          await load.progress(100);
        }
        // Without the leader's endpoint, etcdctl cannot ask for a transfer (exit 128: bad arguments).
        const leader = await c.leader();
        const followers = c.voters().filter((m) => m !== leader);
        const refused = await etcdctl(c.endpoints(followers), ['move-leader', followers[0]!.hexId]);
        assert.deepEqual(
          { code: refused.code, error: refused.error },
          { code: 128, error: `Error: no leader endpoint given at [${followers.map((m) => m.endpoint).join(' ')}]` },
        );
      });
      const verified = await verifyCluster(c, load.acked);
      t.diagnostic(`acknowledged ${verified.keys}; failed puts: ${load.describeFailures()}`);
    });
  });
});
