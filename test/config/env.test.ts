// ETCD_* environment variables: each flag's variable, the empty-is-unset rule, etcd 3.4's refusal
// of a variable that shadows a command-line flag, and the warning for unrecognized ETCD_* names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigErrorCode, FLAGS, flagToEnv } from '../../src/config/index.ts';
import { fails, run } from './helpers.ts';

test('env - each flag has its ETCD_ variable, dashes to underscores, upper case', () => {
  assert.equal(flagToEnv('initial-cluster-token'), 'ETCD_INITIAL_CLUSTER_TOKEN');
  assert.equal(flagToEnv('experimental-enable-v2v3'), 'ETCD_EXPERIMENTAL_ENABLE_V2V3');
  assert.equal(new Set(FLAGS.map((f) => flagToEnv(f.name))).size, FLAGS.length);
});

test('env - variables set the flags they name', () => {
  const { config, warnings } = run([], {
    ETCD_NAME: 'n2',
    ETCD_INITIAL_CLUSTER_TOKEN: 'token-02',
    ETCD_HEARTBEAT_INTERVAL: '50',
    ETCD_ELECTION_TIMEOUT: '500',
    ETCD_ENABLE_V2: 'true',
    ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.3:2379',
    ETCD_ADVERTISE_CLIENT_URLS: 'http://127.0.0.3:2379',
    PATH: '/usr/bin',
  });
  assert.equal(config.name, 'n2');
  assert.equal(config.dataDir, 'n2.concord');
  assert.equal(config.initialClusterToken, 'token-02');
  assert.equal(config.heartbeatIntervalMs, 50);
  assert.equal(config.electionTimeoutMs, 500);
  assert.equal(config.enableV2, true);
  assert.deepEqual(config.listenClientUrls, ['http://127.0.0.3:2379']);
  assert.deepEqual(warnings, []);
});

test('env - command-line flags and variables for different flags combine', () => {
  const { config } = run(['--name', 'n1'], { ETCD_SNAPSHOT_COUNT: '42' });
  assert.equal(config.name, 'n1');
  assert.equal(config.snapshotCount, 42);
});

test('env - a flag given both on the command line and in env is refused, as etcd 3.4 does', () => {
  const err = fails(['--name', 'n1'], ConfigErrorCode.EnvConflict, [
    'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag',
  ], { ETCD_NAME: 'n2' });
  assert.equal(err.exitCode, 1);
  assert.equal(err.flag, 'name');
});

test('env - an empty variable counts as unset and is reported as unrecognized', () => {
  const { config, warnings } = run([], { ETCD_NAME: '' });
  assert.equal(config.name, 'default');
  assert.deepEqual(warnings, ['unrecognized environment variable ETCD_NAME=']);
});

test('env - an unknown ETCD_ variable is a warning, other variables are not looked at', () => {
  const { warnings } = run([], { ETCD_FOO_BAR: '1', HOME: '/root', ETCDCTL_API: '3' });
  assert.deepEqual(warnings, ['unrecognized environment variable ETCD_FOO_BAR=1']);
});

test('env - a bad value names the variable and exits 1, as etcd does', () => {
  const err = fails([], ConfigErrorCode.BadValue, [
    'invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error',
  ], { ETCD_SNAPSHOT_COUNT: 'abc' });
  assert.equal(err.exitCode, 1);
  fails([], ConfigErrorCode.BadValue, ['invalid value "yes" for ETCD_ENABLE_V2'], {
    ETCD_ENABLE_V2: 'yes',
  });
  fails([], ConfigErrorCode.BadValue, ['for ETCD_INITIAL_CLUSTER_STATE: invalid value'], {
    ETCD_INITIAL_CLUSTER_STATE: 'bogus',
  });
});
