// The bounded chaos run of the test suite: about two minutes on a 3-member cluster, every fault
// kind at least once, every workload, and every checker must find the history clean. It runs
// against concord; until concord runs clusters, it skips and the same run against real etcd
// validates the harness instead (CONCORD_CHAOS_ETCD=1 runs the etcd one always).
// CONCORD_CHAOS_SEED picks the seed (a failing run prints the seed to replay).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { run, type RunOptions } from './run.ts';
import { isClusteringMissing, reportText } from './suite.ts';

const seed = Number(process.env['CONCORD_CHAOS_SEED'] ?? 0x5eed);
const bounded: Omit<RunOptions, 'target'> = {
  members: 3,
  seed,
  timeSeconds: 60,
  quietSeconds: 3,
  holdMs: [1_000, 2_500],
  gapMs: [1_000, 2_000],
  log: (line) => {
    if (process.env['CONCORD_CHAOS_VERBOSE'] === '1') console.error(line);
  },
};
let concordRan = false;

test('chaos - a 3-member concord cluster under every kind of fault loses nothing and stays linearizable', { timeout: 600_000 }, async (t) => {
  let report;
  try {
    report = await run({ ...bounded, target: 'concord' });
  } catch (err) {
    if (isClusteringMissing(err)) return t.skip('concord cannot run a cluster yet');
    throw err;
  }
  concordRan = true;
  for (const line of reportText(report).split('\n')) t.diagnostic(line);
  assert.notEqual(report.result, 'violation', reportText(report));
  assert.deepEqual(report.harnessErrors, [], reportText(report));
  assert.ok(report.faults.length >= report.faultKinds.length, 'every fault kind ran');
});

test('chaos - the harness finds real etcd under the same faults clean', { timeout: 600_000 }, async (t) => {
  if (!existsSync('/usr/bin/etcd')) return t.skip('/usr/bin/etcd is not installed');
  if (concordRan && process.env['CONCORD_CHAOS_ETCD'] !== '1') {
    return t.skip('concord ran; CONCORD_CHAOS_ETCD=1 runs etcd as well');
  }
  const report = await run({ ...bounded, target: 'etcd' });
  for (const line of reportText(report).split('\n')) t.diagnostic(line);
  assert.notEqual(report.result, 'violation', reportText(report));
  assert.deepEqual(report.harnessErrors, [], reportText(report));
  for (const workload of ['register', 'append', 'watch', 'lease']) {
    assert.ok((report.ops[workload]?.ok ?? 0) > 50, `${workload} made progress`);
  }
});
