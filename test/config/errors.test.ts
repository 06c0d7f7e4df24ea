// Every way a command line is rejected, with etcd 3.4's words and exit codes: 2 for what Go's flag
// package rejects, 1 for what etcd's validation rejects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigErrorCode as Code, isConfigError, parseConfig } from '../../src/config/index.ts';
import { fails, recipe } from './helpers.ts';

test('errors - an unknown flag is Go flag package words and exit 2', () => {
  const err = fails(['--foo'], Code.UnknownFlag, ['flag provided but not defined: -foo']);
  assert.equal(err.exitCode, 2);
  fails(['-foo=1'], Code.UnknownFlag, ['flag provided but not defined: -foo']);
});

test('errors - bad flag syntax and a missing value exit 2', () => {
  assert.equal(fails(['---name'], Code.FlagSyntax, ['bad flag syntax: ---name']).exitCode, 2);
  fails(['-=x'], Code.FlagSyntax, ['bad flag syntax: -=x']);
  fails(['--name'], Code.FlagSyntax, ['flag needs an argument: -name']);
});

test('errors - a bad number, boolean or duration names the flag and the value', () => {
  const num = fails(['--heartbeat-interval', 'abc'], Code.BadValue, [
    'invalid value "abc" for flag -heartbeat-interval: parse error',
  ]);
  assert.equal(num.exitCode, 2);
  assert.equal(num.flag, 'heartbeat-interval');
  fails(['--snapshot-count', '-5'], Code.BadValue, ['invalid value "-5" for flag -snapshot-count']);
  fails(['--max-txn-ops', '99999999999999999999'], Code.BadValue, ['value out of range']);
  fails(['--unsafe-no-fsync=x'], Code.BadValue, [
    'invalid boolean value "x" for -unsafe-no-fsync: parse error',
  ]);
  fails(['--grpc-keepalive-timeout', '5'], Code.BadValue, ['-grpc-keepalive-timeout: parse error']);
  fails(['--max-concurrent-streams', '4294967296'], Code.BadValue, ['value out of range']);
});

test('errors - a bad URL names the flag and the URL, in etcd words', () => {
  fails(['--listen-client-urls', 'ftp://1.2.3.4:5'], Code.BadValue, [
    'invalid value "ftp://1.2.3.4:5" for flag -listen-client-urls: ' +
      'URL scheme must be http, https, unix, or unixs: ftp://1.2.3.4:5',
  ]);
  fails(['--listen-peer-urls', 'http://1.2.3.4'], Code.BadValue, [
    '-listen-peer-urls: URL address does not have the form "host:port": http://1.2.3.4',
  ]);
  fails(['--advertise-client-urls', 'http://a:1/x'], Code.BadValue, [
    'URL must not contain a path: http://a:1/x',
  ]);
  fails(['--cors', 'http://example.com'], Code.BadValue, ['-cors: URL address']);
});

test('errors - a listen URL must bind an IP, an advertised URL must have a host', () => {
  fails(
    ['--listen-client-urls', 'http://example.com:2379', '--advertise-client-urls', 'http://a:1'],
    Code.Invalid,
    ['expected IP in URL for binding (http://example.com:2379)'],
  );
  fails(['--initial-advertise-peer-urls', 'http://:2380'], Code.Invalid, [
    '--initial-advertise-peer-urls "http://:2380" must be "host:port"',
  ]);
});

test('errors - a bad cluster state is rejected', () => {
  const err = fails(['--initial-cluster-state', 'bogus'], Code.BadValue, [
    'invalid value "bogus" for flag -initial-cluster-state: invalid value',
  ]);
  assert.equal(err.exitCode, 2);
});

test('errors - the election timeout must be at least 5 heartbeats and at most 50 s', () => {
  const err = fails(['--heartbeat-interval', '300', '--election-timeout', '1000'], Code.Invalid, [
    '--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]',
  ]);
  assert.equal(err.exitCode, 1);
  fails(['--heartbeat-interval', '0'], Code.Invalid, ['--heartbeat-interval must be >0']);
  fails(['--election-timeout', '60000'], Code.Invalid, [
    '--election-timeout[60000ms] is too long, and should be set less than 50000ms',
  ]);
});

test('errors - listening on clients without advertising them is refused', () => {
  fails(['--listen-client-urls', 'http://127.0.0.1:2379'], Code.Invalid, [
    '--advertise-client-urls is required when --listen-client-urls is set explicitly',
  ]);
});

test('errors - the member name must be in --initial-cluster', () => {
  const argv = recipe(1).map((a) => (a === 'n1' ? 'n9' : a));
  fails(argv, Code.Bootstrap, [
    `couldn't find local name "n9" in the initial cluster configuration`,
  ]);
});

test('errors - --initial-cluster must list exactly the advertised peer URLs', () => {
  fails(
    ['--initial-cluster', 'default=http://127.0.0.1:2390'],
    Code.Bootstrap,
    [
      '--initial-cluster has default=http://127.0.0.1:2390 but missing from ' +
        '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      'resolved urls: "http://127.0.0.1:2380" != "http://127.0.0.1:2390"',
    ],
  );
  fails(
    [
      '--initial-advertise-peer-urls', 'http://127.0.0.1:2380,http://127.0.0.1:2381',
      '--initial-cluster', 'default=http://127.0.0.1:2380',
    ],
    Code.Bootstrap,
    [
      '--initial-advertise-peer-urls has http://127.0.0.1:2381 but missing from ' +
        '--initial-cluster=default=http://127.0.0.1:2380,default=http://127.0.0.1:2381',
    ],
    {},
  );
});

test('errors - the bootstrap check can be left to the server, for a restart', () => {
  const argv = ['--name', 'n9', '--initial-cluster', 'n1=http://127.0.0.1:2380'];
  assert.equal(parseConfig(argv, {}, { verifyBootstrap: false }).kind, 'run');
});

test('errors - a duplicate URL or a bad URL in --initial-cluster is rejected', () => {
  fails(['--initial-cluster', 'default=http://127.0.0.1:2380,n2=http://127.0.0.1:2380'],
    Code.Bootstrap, ['has duplicate url']);
  fails(['--initial-cluster', 'default=127.0.0.1:2380'], Code.Bootstrap, [
    'error setting up initial cluster: URL scheme must be http, https, unix, or unixs',
  ]);
});

test('errors - log, compaction, auth and lease-checkpoint values are checked', () => {
  fails(['--logger', 'bogus'], Code.Invalid, ['unknown logger option "bogus"']);
  fails(['--log-level', 'loud'], Code.Invalid, ['unknown level "loud"']);
  fails(['--log-outputs', 'stderr,stdout'], Code.Invalid, ['supports only 1 value']);
  fails(['--auto-compaction-mode', 'bogus'], Code.Invalid, [
    'unknown auto-compaction-mode "bogus"',
  ]);
  fails(['--auto-compaction-retention', '1x'], Code.Invalid, [
    'error parsing CompactionRetention: time: unknown unit "x" in duration "1x"',
  ]);
  fails(['--auth-token', 'magic'], Code.Invalid, ['auth: invalid auth options']);
  fails(['--experimental-enable-lease-checkpoint-persist'], Code.Invalid, [
    'requires experimental-enable-lease-checkpoint',
  ]);
});

test('errors - a stray argument is not a flag, exit 1; etcd subcommands are unsupported', () => {
  const err = fails(['--name', 'a', 'extra'], Code.NotAFlag, [`'extra' is not a valid flag`]);
  assert.equal(err.exitCode, 1);
  fails(['--enable-v2', 'false'], Code.NotAFlag, [`'false' is not a valid flag`]);
  fails(['grpc-proxy', 'start'], Code.Unsupported, ["'grpc-proxy'"]);
});

test('errors - isConfigError tells config errors apart', () => {
  try {
    parseConfig(['--foo'], {});
  } catch (err) {
    assert.ok(isConfigError(err, Code.UnknownFlag));
    assert.ok(!isConfigError(err, Code.BadValue));
    assert.ok(!isConfigError(new Error('x')));
  }
});
