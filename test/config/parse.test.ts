// parseConfig on the command line: Concord's defaults, Go flag syntax, the 3-member recipe,
// help and version as results, and the report of flags for features Concord lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAGS, helpText, parseConfig } from '../../src/config/index.ts';
import { recipe, run } from './helpers.ts';

test('config - no flags gives Concord defaults', () => {
  const { config, warnings } = run([]);
  assert.equal(config.name, 'default');
  assert.equal(config.dataDir, 'default.concord');
  assert.equal(config.walDir, '');
  assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:2379']);
  assert.deepEqual(config.advertiseClientUrls, ['http://127.0.0.1:2379']);
  assert.deepEqual(config.listenPeerUrls, ['http://127.0.0.1:2380']);
  assert.deepEqual(config.initialAdvertisePeerUrls, ['http://127.0.0.1:2380']);
  assert.deepEqual([...config.initialCluster], [['default', ['http://127.0.0.1:2380']]]);
  assert.equal(config.initialClusterText, 'default=http://127.0.0.1:2380');
  assert.equal(config.initialClusterState, 'new');
  assert.equal(config.initialClusterToken, 'etcd-cluster');
  assert.equal(config.heartbeatIntervalMs, 100);
  assert.equal(config.electionTimeoutMs, 1000);
  assert.equal(config.snapshotCount, 100_000);
  assert.equal(config.snapshotsMax, 5);
  assert.equal(config.walsMax, 5);
  assert.equal(config.requestBytesMax, 1_572_864);
  assert.equal(config.txnOpsMax, 128);
  assert.equal(config.quotaBackendBytes, 2 * 1024 ** 3);
  assert.equal(config.autoCompaction, undefined);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.preVote, true, 'Concord turns PreVote on by default (etcd 3.4: off)');
  assert.equal(config.strictReconfigCheck, true);
  assert.equal(config.enableV2, false);
  assert.equal(config.grpcKeepaliveMinTimeMs, 5000);
  assert.equal(config.grpcKeepaliveIntervalMs, 2 * 3_600_000);
  assert.deepEqual(config.authToken, { type: 'simple' });
  assert.deepEqual(config.unsupported, []);
  assert.deepEqual(warnings, []);
});

test('config - a name alone names the data dir and the initial cluster', () => {
  const { config } = run(['--name', 'infra0']);
  assert.equal(config.dataDir, 'infra0.concord');
  assert.equal(config.initialClusterText, 'infra0=http://127.0.0.1:2380');
});

test('config - --flag=value, --flag value, -flag value and -flag=value all parse', () => {
  for (const argv of [
    ['--snapshot-count=7'],
    ['--snapshot-count', '7'],
    ['-snapshot-count', '7'],
    ['-snapshot-count=7'],
  ]) {
    assert.equal(run(argv).config.snapshotCount, 7, argv.join(' '));
  }
});

test('config - booleans take --flag, --flag=true and --flag=false, Go spellings included', () => {
  assert.equal(run(['--enable-v2']).config.enableV2, true);
  assert.equal(run(['--enable-v2=true']).config.enableV2, true);
  assert.equal(run(['-enable-v2=1']).config.enableV2, true);
  assert.equal(run(['--enable-v2=T']).config.enableV2, true);
  assert.equal(run(['--pre-vote=false']).config.preVote, false);
  assert.equal(run(['--strict-reconfig-check=F']).config.strictReconfigCheck, false);
});

test('config - numbers parse as Go does, hex and octal included', () => {
  assert.equal(run(['--max-txn-ops', '0x100']).config.txnOpsMax, 256);
  assert.equal(run(['--max-txn-ops', '0200']).config.txnOpsMax, 128);
  assert.equal(run(['--max-request-bytes', '10_000']).config.requestBytesMax, 10_000);
});

test('config - the last occurrence of a flag wins', () => {
  assert.equal(run(['--name', 'a', '--name', 'b']).config.name, 'b');
});

test('config - the 3-member recipe parses for each member', () => {
  for (const n of [1, 2, 3] as const) {
    const { config, warnings } = run(recipe(n));
    assert.equal(config.name, `n${n}`);
    assert.equal(config.initialClusterToken, 'token-01');
    assert.equal(config.initialClusterState, 'new');
    assert.deepEqual([...config.initialCluster.keys()], ['n1', 'n2', 'n3']);
    assert.deepEqual(config.initialCluster.get(`n${n}`), [`http://127.0.0.${n + 1}:2380`]);
    assert.deepEqual(config.listenClientUrls, [`http://127.0.0.${n + 1}:2379`]);
    assert.deepEqual(config.unsupported, []);
    assert.deepEqual(warnings, []);
  }
});

test('config - a name repeated in --initial-cluster gives that member several URLs', () => {
  const { config } = run([
    '--initial-advertise-peer-urls', 'http://127.0.0.1:2380,http://127.0.0.1:2480',
    '--initial-cluster', 'default=http://127.0.0.1:2480,default=http://127.0.0.1:2380',
  ]);
  assert.deepEqual(config.initialCluster.get('default'), [
    'http://127.0.0.1:2380',
    'http://127.0.0.1:2480',
  ]);
});

test('config - URL lists are de-duplicated and sorted as etcd keeps them', () => {
  const { config } = run([
    '--listen-client-urls', 'http://127.0.0.1:2379, http://0.0.0.0:2379,http://127.0.0.1:2379',
    '--advertise-client-urls', 'http://10.0.0.1:2379',
  ]);
  assert.deepEqual(config.listenClientUrls, ['http://0.0.0.0:2379', 'http://127.0.0.1:2379']);
});

test('config - durations, compaction and typed units', () => {
  const { config } = run([
    '--grpc-keepalive-min-time', '1m30s',
    '--auto-compaction-mode', 'periodic',
    '--auto-compaction-retention', '1h30m',
    '--quota-backend-bytes', '1024',
  ]);
  assert.equal(config.grpcKeepaliveMinTimeMs, 90_000);
  assert.deepEqual(config.autoCompaction, {
    mode: 'periodic',
    retentionMs: 5_400_000,
    retention: '1h30m',
  });
  assert.equal(config.quotaBackendBytes, 1024);
  const hours = run(['--auto-compaction-retention', '2']).config.autoCompaction;
  assert.deepEqual(hours, { mode: 'periodic', retentionMs: 7_200_000, retention: '2' });
  const revs = run(['--auto-compaction-mode=revision', '--auto-compaction-retention=1000']);
  assert.deepEqual(revs.config.autoCompaction, {
    mode: 'revision',
    retentionRevisions: 1000,
    retention: '1000',
  });
});

test('config - a quota above 8 GiB is kept with etcd warning', () => {
  const { config, warnings } = run(['--quota-backend-bytes', String(10 * 1024 ** 3)]);
  assert.equal(config.quotaBackendBytes, 10 * 1024 ** 3);
  assert.match(warnings.join('\n'), /exceeds maximum recommended quota/);
});

test('config - jwt auth token options are parsed', () => {
  const { config } = run(['--auth-token', 'jwt,pub-key=a.pub,priv-key=a.key,sign-method=RS256']);
  assert.deepEqual(config.authToken, {
    type: 'jwt',
    options: { 'pub-key': 'a.pub', 'priv-key': 'a.key', 'sign-method': 'RS256' },
  });
});

test('config - --help and -h are results with the help text, --version a result', () => {
  for (const flag of ['--help', '-h', '-help']) {
    const r = parseConfig([flag], {});
    assert.equal(r.kind, 'help');
    if (r.kind === 'help') assert.match(r.text, /--initial-cluster-token 'etcd-cluster'/);
  }
  assert.deepEqual(parseConfig(['--version'], {}), { kind: 'version' });
  assert.deepEqual(parseConfig(['-version'], {}), { kind: 'version' });
});

test('config - help lists every flag of etcd 3.4 that is not a legacy no-op', () => {
  const text = helpText();
  for (const spec of FLAGS) {
    if (spec.kind !== 'ignored') assert.ok(text.includes(`--${spec.name} `), spec.name);
  }
});

test('config - every etcd 3.4 flag is known and parses at its etcd default', () => {
  for (const spec of FLAGS) {
    if (spec.kind === 'ignored' || spec.name === 'version' || spec.name === 'config-file') continue;
    const argv = [`--${spec.name}=${spec.etcdDefault}`];
    if (spec.kind === 'urls' && spec.etcdDefault.includes('2379')) {
      argv.push('--listen-client-urls=http://localhost:2379');
      argv.push('--advertise-client-urls=http://localhost:2379');
    }
    if (spec.name.includes('peer-urls')) {
      argv.push('--initial-cluster=default=http://localhost:2380');
      argv.push('--initial-advertise-peer-urls=http://localhost:2380');
    }
    // An explicitly empty --initial-cluster fails the bootstrap check, in etcd too.
    const r = parseConfig(argv, {}, { verifyBootstrap: false });
    assert.equal(r.kind, 'run', spec.name);
  }
});

test('config - legacy flags etcd ignores are accepted with its warning', () => {
  const { warnings } = run(['-vv', '--peer-heartbeat-interval=5']);
  assert.deepEqual(warnings, [
    'flag "-vv" is no longer supported - ignoring.',
    'flag "-peer-heartbeat-interval" is no longer supported - ignoring.',
  ]);
});

test('config - flags of missing features are reported with a severity, never dropped', () => {
  const { config } = run([
    '--cert-file', 'server.crt',
    '--key-file', 'server.key',
    '--enable-pprof',
    '--unsafe-no-fsync',
    '--experimental-initial-corrupt-check',
  ]);
  const bySeverity = Object.fromEntries(config.unsupported.map((u) => [u.flag, u.severity]));
  assert.deepEqual(bySeverity, {
    'cert-file': 'refuse',
    'key-file': 'refuse',
    'enable-pprof': 'warn',
    'unsafe-no-fsync': 'warn',
    'experimental-initial-corrupt-check': 'warn',
  });
  assert.equal(config.clientTls.certFile, 'server.crt', 'the values are kept for later work');
  for (const u of config.unsupported) assert.match(u.message, new RegExp(`--${u.flag}: `));
});

test('config - an https URL is refused while TLS is missing', () => {
  const { config } = run([
    '--listen-client-urls', 'https://127.0.0.1:2379',
    '--advertise-client-urls', 'https://127.0.0.1:2379',
  ]);
  assert.deepEqual(
    config.unsupported.map((u) => [u.flag, u.severity]),
    [['https URL', 'refuse']],
  );
});

test('config - a missing-feature flag given at its default is not reported', () => {
  const { config } = run(['--client-cert-auth=false', '--proxy', 'off', '--enable-pprof=false']);
  assert.deepEqual(config.unsupported, []);
});
