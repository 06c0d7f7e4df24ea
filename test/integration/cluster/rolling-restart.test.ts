// A rolling restart under a write load: each member in turn is stopped (SIGTERM), writes go on
// without it, and it is started again with the same flags on its data dir. Nothing acknowledged
// is lost and HashKV is equal on every member at one revision afterwards.
import { describe, test } from 'node:test';
import { clusterBinary, clusterSkip, withCluster } from './cluster.ts';
import { CLUSTER_TEST_TIMEOUT_MS, underLoad, verifyCluster } from './load.ts';

describe(`cluster (${clusterBinary}) - rolling restart`, { skip: clusterSkip() }, () => {
  test('every member restarted in turn under load: nothing acknowledged lost, HashKV equal', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async (t) => {
    await withCluster({ size: 3 }, async (c) => {
      const load = await underLoad(c, async (load) => {
        for (const m of c.members) {
          await m.stop();
          await load.progress(100);
          m.start();
          await c.waitHealthy();
          await c.leader();
          await load.progress(100);
        }
      });
      await verifyCluster(c, load.acked);
      t.diagnostic(`acknowledged ${load.acked.size}; failed puts: ${load.describeFailures()}`);
    });
  });
});
