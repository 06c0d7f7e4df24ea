// The cluster benchmark's harness (bench/load/cluster.ts, failover.ts) against real etcd: the
// functional parts only, never a timing: three members form a cluster, load on the leader passes
// its checks, a kill -9 trial finds the first write and the killed member rejoins, and nothing is
// left behind (processes, data).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { BenchCluster, stopAllClusters } from '../../bench/load/cluster.ts';
import { failoverTrial } from '../../bench/load/failover.ts';
import { parseArgs } from '../../bench/load/args.ts';
import { runBench } from '../../bench/load/run.ts';
import { requireTool } from '../integration/concord-process.ts';
import { ETCD_BIN } from '../integration/etcd-process.ts';

after(async () => {
  await stopAllClusters();
});

test('bench cluster - etcd: leader load, a kill -9 trial, the member rejoins, all cleaned up', requireTool(ETCD_BIN), async () => {
  const cluster = await BenchCluster.start('etcd', { hostBase: 40 });
  const pids: number[] = [];
  try {
    const leader = await cluster.leader();
    assert.ok(cluster.members.includes(leader));
    assert.match(cluster.command(leader), /^etcd --data-dir=\$TMP\/n\d\/data\.etcd --name n\d .*--initial-cluster-state new/);
    const result = await runBench(parseArgs(['--endpoints', leader.endpoint, 'put', '--total', '200', '--in-flight', '16', '--conns', '2', '--driver', 'lean']));
    assert.equal(result.verified, true, result.checks.join('\n'));
    const trial = await failoverTrial(cluster);
    assert.equal(trial.killed, leader.name);
    assert.notEqual(trial.newLeader, leader.name);
    assert.ok(trial.ms > 0 && trial.electedMs > 0 && trial.termAfter > trial.termBefore);
    assert.ok(cluster.members.every((m) => m.running), 'the killed member was restarted');
    pids.push(...cluster.members.map((m) => m.pid));
  } finally {
    await cluster.destroy();
  }
  assert.equal(existsSync(cluster.rootDir), false);
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
});
