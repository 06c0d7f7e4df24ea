// The YAML --config-file: etcd's keys and types, TLS sections, and etcd 3.4's precedence (a file
// replaces the command line and environment, which are only reported as ignored).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigErrorCode, FILE_KEYS } from '../../src/config/index.ts';
import { fails, run } from './helpers.ts';

const FILE = `
name: n1
data-dir: /var/lib/concord/n1
wal-dir: /wal/n1
snapshot-count: 5000
heartbeat-interval: 200
election-timeout: 2000
listen-peer-urls: http://127.0.0.2:2380
listen-client-urls: http://127.0.0.2:2379,http://127.0.0.1:2379
initial-advertise-peer-urls: http://127.0.0.2:2380
advertise-client-urls: http://127.0.0.2:2379
initial-cluster: n1=http://127.0.0.2:2380,n2=http://127.0.0.3:2380,n3=http://127.0.0.4:2380
initial-cluster-state: existing
initial-cluster-token: token-01
quota-backend-bytes: 4294967296
max-request-bytes: 2097152
auto-compaction-mode: revision
auto-compaction-retention: "1000"
log-level: warn
logger: zap
log-outputs: [stderr]
grpc-keepalive-min-time: 10000000000
enable-v2: true
`;

const reader = (files: Record<string, string>) => (path: string) => {
  const text = files[path];
  if (text === undefined) throw new Error('no such file or directory');
  return text;
};

test('config file - etcd keys and types become the Config', () => {
  const { config, warnings } = run(['--config-file', 'etcd.yaml'], {}, {
    readFile: reader({ 'etcd.yaml': FILE }),
  });
  assert.equal(config.source, 'config-file');
  assert.equal(config.configFile, 'etcd.yaml');
  assert.equal(config.name, 'n1');
  assert.equal(config.dataDir, '/var/lib/concord/n1');
  assert.equal(config.walDir, '/wal/n1');
  assert.equal(config.snapshotCount, 5000);
  assert.equal(config.heartbeatIntervalMs, 200);
  assert.equal(config.electionTimeoutMs, 2000);
  assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:2379', 'http://127.0.0.2:2379']);
  assert.equal(config.initialClusterState, 'existing');
  assert.equal(config.initialCluster.size, 3);
  assert.equal(config.quotaBackendBytes, 4 * 1024 ** 3);
  assert.equal(config.requestBytesMax, 2_097_152);
  assert.deepEqual(config.autoCompaction, {
    mode: 'revision',
    retentionRevisions: 1000,
    retention: '1000',
  });
  assert.equal(config.logLevel, 'warn');
  assert.deepEqual(config.logOutputs, ['stderr']);
  assert.equal(config.grpcKeepaliveMinTimeMs, 10_000, 'durations are Go nanoseconds');
  assert.equal(config.enableV2, true);
  assert.deepEqual(warnings, []);
});

test('config file - command-line flags and env are ignored, and said to be', () => {
  const { config, warnings } = run(
    ['--config-file', 'etcd.yaml', '--name', 'other', '--snapshot-count', '1'],
    { ETCD_HEARTBEAT_INTERVAL: '10' },
    { readFile: reader({ 'etcd.yaml': 'name: fromfile\n' }) },
  );
  assert.equal(config.name, 'fromfile');
  assert.equal(config.snapshotCount, 100_000);
  assert.equal(config.heartbeatIntervalMs, 100);
  assert.equal(config.dataDir, 'fromfile.concord');
  assert.equal(config.initialClusterText, 'fromfile=http://127.0.0.1:2380');
  assert.match(warnings[0]!, /ignored: --name, --snapshot-count, ETCD_HEARTBEAT_INTERVAL/);
});

test('config file - ETCD_CONFIG_FILE names the file when the flag is absent', () => {
  const { config } = run([], { ETCD_CONFIG_FILE: 'etcd.yaml' }, {
    readFile: reader({ 'etcd.yaml': 'name: fromenv\n' }),
  });
  assert.equal(config.name, 'fromenv');
});

test('config file - a bad flag still fails before the file is read', () => {
  fails(['--config-file', 'etcd.yaml', '--snapshot-count', 'x'], ConfigErrorCode.BadValue, [
    'invalid value "x" for flag -snapshot-count',
  ], {}, { readFile: reader({ 'etcd.yaml': 'name: a\n' }) });
});

test('config file - TLS sections map onto the TLS flags; client TLS is refused, peer TLS is not', () => {
  const text = [
    'client-transport-security:',
    '  cert-file: server.crt',
    '  key-file: server.key',
    '  client-cert-auth: true',
    '  trusted-ca-file: ca.crt',
    'peer-transport-security:',
    '  auto-tls: true',
  ].join('\n');
  const { config } = run(['--config-file=c.yaml'], {}, { readFile: reader({ 'c.yaml': text }) });
  assert.deepEqual(
    [config.clientTls.certFile, config.clientTls.keyFile, config.clientTls.trustedCaFile],
    ['server.crt', 'server.key', 'ca.crt'],
  );
  assert.equal(config.clientTls.clientCertAuth, true);
  assert.equal(config.peerTls.autoTls, true);
  const refused = config.unsupported.filter((u) => u.severity === 'refuse').map((u) => u.flag);
  assert.deepEqual(refused.sort(), [
    'cert-file',
    'client-cert-auth',
    'key-file',
    'trusted-ca-file',
  ]);
});

test('config file - an unknown key is reported rather than silently ignored', () => {
  const { warnings } = run(['--config-file=c.yaml'], {}, {
    readFile: reader({ 'c.yaml': 'name: a\nnot-a-key: 1\n' }),
  });
  assert.deepEqual(warnings, ['config file "c.yaml": unknown key "not-a-key" ignored']);
});

test('config file - wrong types, bad YAML, bad URLs and a missing file are errors', () => {
  const files = reader({
    'num.yaml': 'snapshot-count: abc\n',
    'str.yaml': 'auto-compaction-retention: 1\n',
    'dur.yaml': 'grpc-keepalive-min-time: 5s\n',
    'yaml.yaml': 'name: [x\n',
    'url.yaml': 'listen-client-urls: ftp://x:1\n',
    'state.yaml': 'initial-cluster-state: bogus\n',
  });
  const cases: [string, string[]][] = [
    ['num.yaml', ['cannot unmarshal string into field "snapshot-count" of type uint64']],
    ['str.yaml', ['cannot unmarshal number 1 into field "auto-compaction-retention"']],
    ['dur.yaml', ['"grpc-keepalive-min-time" of type time.Duration']],
    ['yaml.yaml', ['error converting YAML to JSON']],
    ['url.yaml', ['unexpected error setting up listen-client-urls: URL scheme must be http']],
    ['missing.yaml', ['open missing.yaml: no such file or directory']],
  ];
  for (const [path, parts] of cases) {
    const argv = ['--config-file', path];
    const err = fails(argv, ConfigErrorCode.File, parts, {}, { readFile: files });
    assert.equal(err.exitCode, 1);
  }
  const state = ['unexpected clusterState "bogus"'];
  fails(['--config-file', 'state.yaml'], ConfigErrorCode.Invalid, state, {}, { readFile: files });
  fails(['--config-file', 'x.yaml'], ConfigErrorCode.File, ['no reader']);
});

test('config file - the documented keys include etcd sample keys', () => {
  for (const key of ['name', 'initial-cluster', 'client-transport-security', 'enable-v2']) {
    assert.ok(FILE_KEYS.includes(key), key);
  }
});
