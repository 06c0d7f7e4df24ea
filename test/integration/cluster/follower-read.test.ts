// Linearizable reads from followers: a put acknowledged through one follower is seen by a
// linearizable read sent right after to the other follower (ReadIndex), every time; a read never
// shows a revision older than the write it follows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ClusterMember, clusterBinary, clusterSkip, withCluster } from './cluster.ts';
import { CLUSTER_TEST_TIMEOUT_MS, underLoad } from './load.ts';

const ROUNDS = 200;

describe(`cluster (${clusterBinary}) - linearizable reads on followers`, { skip: clusterSkip() }, () => {
  test(`a write through one follower is read linearizably from the other, ${ROUNDS} times`, { timeout: CLUSTER_TEST_TIMEOUT_MS }, async () => {
    await withCluster({ size: 3 }, async (c) => {
      const [a, b] = (await c.followers()) as [ClusterMember, ClusterMember];
      // A light load beside, so that followers apply behind the leader now and then.
      await underLoad(c, async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
          const key = `follower-read/${i % 10}`;
          const value = `round ${i} via ${writer.name}`;
          const put = await writer.client.put(key, value);
          const got = await reader.client.range(key);
          const read = Buffer.from(got.kvs[0]?.value ?? []).toString();
          assert.equal(read, value, `round ${i}: ${reader.name} reads what ${writer.name} wrote`);
          assert.equal(got.kvs[0]!.modRevision, put.header!.revision);
          assert.ok(got.header!.revision >= put.header!.revision);
        }
      }, { clients: 4 });
    });
  });
});
