// The etcd clustering recipe, literally, with three members on 127.0.0.11-13: the real etcdctl
// lists the three members, with the ids etcd derives from the peer URLs and the token, and
// `endpoint status|health|hashkv --cluster` print what they print against etcd.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterBinary, clusterSkip, withCluster } from './cluster.ts';
import { ctlOk, parseCtlJson } from './ctl.ts';
import { etcdClusterId, etcdMemberId, hexId } from './etcd-ids.ts';
import { CLUSTER_TEST_TIMEOUT_MS } from './load.ts';

const big = (v: unknown): bigint => BigInt(String(v));

const STATUS_TABLE_HEADER = [
  'ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX',
  'RAFT APPLIED INDEX', 'ERRORS',
];

/** The cells of one table row (column widths follow the content, so they are not compared). */
const cells = (row: string | undefined): string[] => (row ?? '').split('|').slice(1, -1).map((c) => c.trim());

describe(`cluster (${clusterBinary}) - the recipe with three members`, { skip: clusterSkip() }, () => {
  test('etcdctl member list, endpoint status, health and hashkv see the three members', { timeout: CLUSTER_TEST_TIMEOUT_MS }, async () => {
    await withCluster({ size: 3 }, async (c) => {
      // The recipe's own command: --endpoints=HOST1:port,HOST2:port,HOST3:port.
      const endpoints = c.endpoints();
      const ids = c.members.map((m) => etcdMemberId([m.peerUrl], c.token));
      const clusterId = etcdClusterId(ids);
      const expected = c.members
        .map((m, i) => ({ id: ids[i]!, line: `${hexId(ids[i]!)}, started, ${m.name}, ${m.peerUrl}, ${m.clientUrl}, false` }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));

      // Simple output: one line per member, ordered by id, as etcd prints it.
      const list = await ctlOk(endpoints, ['member', 'list']);
      assert.equal(list.stdout, expected.map((e) => `${e.line}\n`).join(''));

      // JSON: the cluster id etcd derives; no isLearner field for voters (omitempty).
      const json = parseCtlJson((await ctlOk(endpoints, ['member', 'list', '-w', 'json'])).stdout) as {
        header: Record<string, unknown>;
        members: Array<Record<string, unknown>>;
      };
      assert.equal(big(json.header['cluster_id']), clusterId);
      assert.deepEqual(Object.keys(json.header).sort(), ['cluster_id', 'member_id', 'raft_term']);
      assert.ok(ids.includes(big(json.header['member_id'])));
      assert.deepEqual(
        json.members.map((m) => ({ ...m, ID: big(m['ID']) })),
        expected.map((e) => {
          const m = c.members[ids.indexOf(e.id)]!;
          return { ID: e.id, name: m.name, peerURLs: [m.peerUrl], clientURLs: [m.clientUrl] };
        }),
      );

      // Table output: etcd's header.
      const table = (await ctlOk(endpoints, ['member', 'list', '-w', 'table'])).stdout.split('\n');
      assert.deepEqual(cells(table[1]), ['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER']);
      assert.equal(table.filter((l) => / started /.test(l)).length, 3);

      // endpoint status --cluster: every member, one leader that all agree on.
      const status = parseCtlJson((await ctlOk(c.endpoints([c.members[0]!]), ['endpoint', 'status', '--cluster', '-w', 'json'])).stdout) as Array<{
        Endpoint: string;
        Status: Record<string, unknown> & { header: Record<string, unknown> };
      }>;
      assert.deepEqual(status.map((s) => s.Endpoint).sort(), c.members.map((m) => m.clientUrl).sort());
      const leaders = new Set(status.map((s) => big(s.Status['leader'])));
      assert.equal(leaders.size, 1, `one leader: ${[...leaders].join(', ')}`);
      assert.ok(ids.includes([...leaders][0]!));
      for (const s of status) {
        const memberId = big(s.Status.header['member_id']);
        assert.equal(big(s.Status.header['cluster_id']), clusterId);
        assert.equal(s.Endpoint, c.members[ids.indexOf(memberId)]?.clientUrl, 'each endpoint answers as its own member');
        assert.match(String(s.Status['version']), /^3\.4\.\d+$/);
        assert.ok(Number(s.Status['raftIndex']) > 0 && Number(s.Status['raftTerm']) > 0);
        assert.ok(Number(s.Status['dbSize']) > 0);
        assert.equal(s.Status['isLearner'], undefined, 'isLearner is omitted for a voter');
      }
      const statusTable = (await ctlOk(endpoints, ['endpoint', 'status', '--cluster', '-w', 'table'])).stdout.split('\n');
      assert.deepEqual(cells(statusTable[1]), STATUS_TABLE_HEADER);
      const rows = statusTable.filter((l) => l.startsWith('| http://'));
      assert.equal(rows.length, 3);
      assert.equal(rows.filter((r) => /\|\s+true \|\s+false \|/.test(r)).length, 1, `one row is the leader:\n${rows.join('\n')}`);

      // endpoint health --cluster: etcdctl 3.4 prints the verdicts on stderr.
      const health = await ctlOk(endpoints, ['endpoint', 'health', '--cluster']);
      for (const m of c.members) {
        assert.match(health.stdout + health.stderr, new RegExp(`^${m.clientUrl} is healthy: successfully committed proposal: took = \\S+$`, 'm'));
      }
      const healthJson = parseCtlJson((await ctlOk(endpoints, ['endpoint', 'health', '--cluster', '-w', 'json'])).stdout) as Array<Record<string, unknown>>;
      assert.deepEqual(healthJson.map((h) => [h['endpoint'], h['health']]).sort(), c.members.map((m) => [m.clientUrl, true]).sort());

      // A put through one member; hashkv --cluster equal everywhere.
      await ctlOk(c.endpoints([c.members[2]!]), ['put', 'recipe', 'three']);
      const hashes = parseCtlJson((await ctlOk(endpoints, ['endpoint', 'hashkv', '--cluster', '-w', 'json'])).stdout) as Array<{
        Endpoint: string;
        HashKV: { hash: number; compact_revision: number };
      }>;
      assert.equal(hashes.length, 3);
      assert.equal(new Set(hashes.map((h) => h.HashKV.hash)).size, 1, JSON.stringify(hashes));
      for (const m of c.members) {
        const got = await ctlOk(m.endpoint, ['get', 'recipe', '--print-value-only']);
        assert.equal(got.stdout, 'three\n', `${m.name} reads the put`);
      }
    });
  });
});
