// kill -9 of the leader under a write load: the two others elect a new leader and writes go on;
// afterwards every acknowledged write is readable from every member, and the old leader, started
// again on its data dir with the same flags, catches up (HashKV equal at one revision).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterBinary, clusterSkip, withCluster } from './cluster.ts';
import { CLUSTER_TEST_TIMEOUT_MS, underLoad, verifyCluster } from './load.ts';

describe(`cluster (${clusterBinary}) - kill -9 of the leader`, { skip: clusterSkip() }, () => {
  test('a new leader is elected, writes continue, nothing acknowledged is lost, the old leader catches up', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async (t) => {
    await withCluster({ size: 3 }, async (c) => {
      const load = await underLoad(c, async (load) => {
        const old = await c.leader();
        await old.kill9();
        const next = await c.leader();
        assert.notEqual(next, old, 'a surviving member leads');
        await load.progress(200);
        old.start();
        await c.waitHealthy();
        await load.progress(100);
      });
      const verified = await verifyCluster(c, load.acked);
      t.diagnostic(`acknowledged ${load.acked.size}; failed puts: ${load.describeFailures()}`);
      assert.ok(verified.keys > 300, `acknowledged ${verified.keys}; failures: ${load.describeFailures()}`);
    });
  });
});
