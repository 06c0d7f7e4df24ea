// The recipe with five and seven members: etcdctl lists them all, started, and a put through one
// member is read from every other, linearizably and (once applied there) serializably.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterBinary, clusterSkip, waitFor, withCluster } from './cluster.ts';
import { memberList } from './ctl.ts';
import { etcdMemberId, hexId } from './etcd-ids.ts';
import { CLUSTER_TEST_TIMEOUT_MS } from './load.ts';

describe(`cluster (${clusterBinary}) - five and seven members`, { skip: clusterSkip() }, () => {
  for (const size of [5, 7]) {
    test(`${size} members: member list lists ${size}, a put on one is read on all`, { timeout: CLUSTER_TEST_TIMEOUT_MS }, async () => {
      await withCluster({ size }, async (c) => {
        const listed = await memberList(c.endpoints());
        assert.deepEqual(
          listed.map((l) => `${l.id} ${l.status} ${l.name} ${l.peerUrls} ${l.clientUrls} ${l.isLearner}`).sort(),
          c.members.map((m) => `${hexId(etcdMemberId([m.peerUrl], c.token))} started ${m.name} ${m.peerUrl} ${m.clientUrl} false`).sort(),
        );
        for (const [i, writer] of c.members.entries()) {
          const key = `size${size}/from-${writer.name}`;
          const put = await writer.client.put(key, `v${i}`);
          const revision = put.header!.revision;
          for (const reader of c.members) {
            const lin = await reader.client.range(key);
            assert.equal(Buffer.from(lin.kvs[0]?.value ?? []).toString(), `v${i}`, `${reader.name} reads ${key} linearizably`);
            assert.equal(lin.kvs[0]!.modRevision, revision);
            await waitFor(`${reader.name} to serve ${key} serializably`, async () => {
              const ser = await reader.client.range(key, { serializable: true });
              return ser.kvs[0]?.modRevision === revision ? true : undefined;
            });
          }
        }
      });
    });
  }
});
