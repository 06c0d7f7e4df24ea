// A follower stopped while many more writes than --snapshot-count happen catches up after its
// restart: every acknowledged key is on it and HashKV is equal. With a small --snapshot-count the
// leader has compacted its log, so the catch-up is a streamed snapshot: etcd 3.4 keeps 5,000
// entries behind a snapshot for slow followers (SnapshotCatchUpEntries, not a flag in 3.4), so the
// follower misses more than that, and the test looks for the snapshot in the follower's /metrics
// (etcd_network_snapshot_receive_success) or, where there are no such metrics, in its log
// ("received snapshot").
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ClusterMember, clusterBinary, clusterSkip, withCluster } from './cluster.ts';
import { CLUSTER_TEST_TIMEOUT_MS, verifyCluster, WriteLoad } from './load.ts';

const SNAPSHOT_COUNT = 100;
/** More than etcd's 5,000 catch-up entries plus --snapshot-count. */
const WRITES_WHILE_DOWN = 6_000;

/** Snapshots `member` received, by its /metrics; undefined when it serves no such counter. */
async function snapshotsReceived(member: ClusterMember): Promise<number | undefined> {
  try {
    const res = await fetch(`${member.clientUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return undefined;
    const lines = (await res.text()).split('\n').filter((l) => l.startsWith('etcd_network_snapshot_receive_success'));
    if (lines.length === 0) return undefined;
    return lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  } catch {
    return undefined;
  }
}

describe(`cluster (${clusterBinary}) - a follower far behind catches up by snapshot`, { skip: clusterSkip() }, () => {
  test(`a follower stopped during ${WRITES_WHILE_DOWN} writes (--snapshot-count ${SNAPSHOT_COUNT}) catches up after restart`, { timeout: CLUSTER_TEST_TIMEOUT_MS }, async (t) => {
    await withCluster({ size: 3, snapshotCount: SNAPSHOT_COUNT }, async (c) => {
      const follower = (await c.followers())[0]!;
      const before = new WriteLoad(c, { clients: 8, pauseMs: 0, total: 200, prefix: 'load/' }).start();
      await before.done();
      await follower.stop();

      const down = new WriteLoad(c, { clients: 48, pauseMs: 0, total: WRITES_WHILE_DOWN, prefix: 'load/down/' }).start();
      await down.done();
      assert.ok(down.acked.size >= WRITES_WHILE_DOWN, `acknowledged ${down.acked.size}; failures: ${down.describeFailures()}`);

      follower.start();
      await c.waitHealthy();
      const acked = new Map([...before.acked, ...down.acked]);
      const verified = await verifyCluster(c, acked);
      assert.equal(verified.keys, acked.size);

      const received = await snapshotsReceived(follower);
      // The process's own output (not the start line, which has --snapshot-count in it).
      const log = follower.currentLog().split('\n').slice(1).join('\n');
      t.diagnostic(`snapshots received by ${follower.name} (metrics): ${received ?? 'no metrics'}`);
      if (received !== undefined) {
        assert.ok(received >= 1, `${follower.name} received a snapshot (etcd_network_snapshot_receive_success)`);
      } else {
        // etcd: "successfully received and saved database snapshot [index: ...]".
        assert.match(log, /\breceived (and saved database )?snapshot\b/, `${follower.name}'s log tells of the snapshot it received`);
      }
    });
  });
});
