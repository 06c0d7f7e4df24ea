// Peer TLS in the config: the --peer-* TLS flags, their ETCD_* variables and the config file's
// peer-transport-security section parse into Config.peerTls; https peer URLs need TLS material
// (etcd's start-up errors and warnings, in etcd's order); the peer TLS features Concord lacks
// are refused by name; client TLS stays refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigErrorCode, FILE_KEYS } from '../../src/config/index.ts';
import { fails, run } from './helpers.ts';

const HTTPS_PEER = [
  '--listen-peer-urls', 'https://127.0.0.1:2380',
  '--initial-advertise-peer-urls', 'https://127.0.0.1:2380',
  '--initial-cluster', 'default=https://127.0.0.1:2380',
];
const FILES = ['--peer-cert-file', 'peer.crt', '--peer-key-file', 'peer.key'];

test('peer tls - the peer TLS flags parse into peerTls and https peer URLs are accepted', () => {
  const { config, warnings } = run([
    ...HTTPS_PEER,
    ...FILES,
    '--peer-trusted-ca-file', 'ca.crt',
    '--peer-client-cert-auth',
  ]);
  assert.deepEqual(
    [config.peerTls.certFile, config.peerTls.keyFile, config.peerTls.trustedCaFile],
    ['peer.crt', 'peer.key', 'ca.crt'],
  );
  assert.equal(config.peerTls.clientCertAuth, true);
  assert.equal(config.peerTls.autoTls, false);
  assert.equal(config.selfSignedCertValidityYears, 1, "etcd 3.5's default: one year");
  assert.deepEqual(config.listenPeerUrls, ['https://127.0.0.1:2380']);
  assert.deepEqual(config.unsupported, []);
  assert.deepEqual(warnings, []);
});

test('peer tls - --peer-auto-tls alone serves https peer URLs', () => {
  const { config, warnings } = run([...HTTPS_PEER, '--peer-auto-tls', '--self-signed-cert-validity', '3']);
  assert.equal(config.peerTls.autoTls, true);
  assert.equal(config.selfSignedCertValidityYears, 3);
  assert.deepEqual(config.unsupported, []);
  assert.deepEqual(warnings, []);
});

test('peer tls - ETCD_* variables set the peer TLS flags', () => {
  const { config } = run(HTTPS_PEER, {
    ETCD_PEER_CERT_FILE: 'env.crt',
    ETCD_PEER_KEY_FILE: 'env.key',
    ETCD_PEER_TRUSTED_CA_FILE: 'env-ca.crt',
    ETCD_PEER_CLIENT_CERT_AUTH: 'true',
    ETCD_PEER_AUTO_TLS: 'false',
    ETCD_SELF_SIGNED_CERT_VALIDITY: '2',
  });
  assert.deepEqual(config.peerTls, {
    certFile: 'env.crt',
    keyFile: 'env.key',
    trustedCaFile: 'env-ca.crt',
    clientCertAuth: true,
    autoTls: false,
    crlFile: '',
    allowedHostname: '',
    allowedCn: '',
  });
  assert.equal(config.selfSignedCertValidityYears, 2);
  assert.deepEqual(config.unsupported, []);
});

test('peer tls - bad values fail as Go flag parsing does', () => {
  const flag = fails(['--self-signed-cert-validity', 'x'], ConfigErrorCode.BadValue, [
    'invalid value "x" for flag -self-signed-cert-validity: parse error',
  ]);
  assert.equal(flag.exitCode, 2);
  fails(['--peer-auto-tls=maybe'], ConfigErrorCode.BadValue, [
    'invalid boolean value "maybe" for -peer-auto-tls',
  ]);
  const env = fails([], ConfigErrorCode.BadValue, [
    'invalid value "-1" for ETCD_SELF_SIGNED_CERT_VALIDITY',
  ], { ETCD_SELF_SIGNED_CERT_VALIDITY: '-1' });
  assert.equal(env.exitCode, 1);
  fails(['--peer-cert-file', 'a.crt'], ConfigErrorCode.EnvConflict, [
    'conflicting environment variable "ETCD_PEER_CERT_FILE" is shadowed',
  ], { ETCD_PEER_CERT_FILE: 'b.crt' });
});

test('peer tls - the config file sets peer TLS under peer-transport-security', () => {
  const text = [
    'name: default',
    'listen-peer-urls: https://127.0.0.1:2380',
    'initial-advertise-peer-urls: https://127.0.0.1:2380',
    'initial-cluster: default=https://127.0.0.1:2380',
    'self-signed-cert-validity: 5',
    'peer-transport-security:',
    '  cert-file: file.crt',
    '  key-file: file.key',
    '  trusted-ca-file: file-ca.crt',
    '  client-cert-auth: true',
    '  auto-tls: false',
  ].join('\n');
  const readFile = (path: string) => {
    assert.equal(path, 'c.yaml');
    return text;
  };
  const { config, warnings } = run(['--config-file=c.yaml'], {}, { readFile });
  assert.deepEqual(
    [config.peerTls.certFile, config.peerTls.keyFile, config.peerTls.trustedCaFile],
    ['file.crt', 'file.key', 'file-ca.crt'],
  );
  assert.equal(config.peerTls.clientCertAuth, true);
  assert.equal(config.selfSignedCertValidityYears, 5);
  assert.deepEqual(config.unsupported, []);
  assert.deepEqual(warnings, []);
  assert.ok(FILE_KEYS.includes('self-signed-cert-validity'));
  fails(['--config-file=c.yaml'], ConfigErrorCode.File, [
    'cannot unmarshal string into field "self-signed-cert-validity" of type uint',
  ], {}, { readFile: () => 'self-signed-cert-validity: "1y"\n' });
});

test('peer tls - an https peer listen URL without TLS material is etcd\'s start-up error', () => {
  const err = fails(HTTPS_PEER, ConfigErrorCode.Invalid, [
    'cannot listen on TLS for 127.0.0.1:2380: KeyFile and CertFile are not presented',
  ]);
  assert.equal(err.exitCode, 1);
  assert.equal(err.flag, 'listen-peer-urls');
  // Checked before the initial cluster, as etcd creates its peer listeners first.
  fails([...HTTPS_PEER, '--name', 'other'], ConfigErrorCode.Invalid, ['cannot listen on TLS']);
  // An https URL advertised but not listened on needs nothing here (etcd starts too).
  run([
    '--initial-advertise-peer-urls', 'https://127.0.0.1:2380',
    '--initial-cluster', 'default=https://127.0.0.1:2380',
  ]);
});

test('peer tls - a certificate needs its key and a key its certificate', () => {
  const err = fails([...HTTPS_PEER, '--peer-cert-file', 'peer.crt'], ConfigErrorCode.Invalid, [
    'KeyFile and CertFile must both be present[key: , cert: peer.crt]',
  ]);
  assert.equal(err.flag, 'peer-key-file');
  // Whatever the scheme: etcd also dials peers with them.
  fails(['--peer-key-file', 'peer.key'], ConfigErrorCode.Invalid, [
    'KeyFile and CertFile must both be present[key: peer.key, cert: ]',
  ]);
  // --peer-auto-tls does not fill the gap: given files win over it.
  fails([...HTTPS_PEER, '--peer-auto-tls', '--peer-cert-file', 'peer.crt'], ConfigErrorCode.Invalid, [
    'KeyFile and CertFile must both be present[key: , cert: peer.crt]',
  ]);
});

test('peer tls - self-signed certificates must be valid for at least a year', () => {
  fails([...HTTPS_PEER, '--peer-auto-tls', '--self-signed-cert-validity=0'], ConfigErrorCode.Invalid, [
    'selfSignedCertValidity is invalid,it should be greater than 0',
  ]);
  // Without auto TLS the validity is not used.
  run([...HTTPS_PEER, ...FILES, '--self-signed-cert-validity=0']);
  run([...HTTPS_PEER, ...FILES, '--peer-auto-tls', '--self-signed-cert-validity=0']);
});

test('peer tls - etcd\'s warnings: auto TLS beside files, TLS beside http listen URLs', () => {
  assert.deepEqual(run([...HTTPS_PEER, ...FILES, '--peer-auto-tls']).warnings, [
    'ignoring peer auto TLS since certs given',
  ]);
  assert.deepEqual(run([...FILES, '--peer-client-cert-auth']).warnings, [
    'The scheme of peer url http://127.0.0.1:2380 is HTTP while peer key/cert files are ' +
      'presented. Ignored peer key/cert files.',
    'The scheme of peer url http://127.0.0.1:2380 is HTTP while client cert auth ' +
      '(--peer-client-cert-auth) is enabled. Ignored client cert auth for this url.',
  ]);
  assert.deepEqual(run(['--peer-auto-tls']).warnings, [
    'The scheme of peer url http://127.0.0.1:2380 is HTTP while peer key/cert files are ' +
      'presented. Ignored peer key/cert files.',
  ]);
});

test('peer tls - with auto TLS, client certificate checks are dropped with a warning', () => {
  const { config, warnings } = run([
    ...HTTPS_PEER,
    '--peer-auto-tls',
    '--peer-client-cert-auth',
    '--peer-trusted-ca-file', 'ca.crt',
  ]);
  assert.deepEqual(warnings, [
    '--peer-client-cert-auth and --peer-trusted-ca-file ignored: --peer-auto-tls generates a ' +
      'self-signed certificate and peers do not verify each other (as in etcd 3.4)',
  ]);
  assert.equal(config.peerTls.clientCertAuth, true, 'the values are kept as given');
});

test('peer tls - revocation lists and name checks are refused by name, not ignored', () => {
  const { config } = run([
    ...HTTPS_PEER,
    ...FILES,
    '--peer-crl-file', 'peer.crl',
    '--peer-cert-allowed-cn', 'etcd-peer',
    '--peer-cert-allowed-hostname', 'peer.example.com',
    '--experimental-peer-skip-client-san-verification',
  ]);
  const bySeverity = Object.fromEntries(config.unsupported.map((u) => [u.flag, u.severity]));
  assert.deepEqual(bySeverity, {
    'peer-cert-allowed-cn': 'refuse',
    'peer-cert-allowed-hostname': 'refuse',
    'peer-crl-file': 'refuse',
    'experimental-peer-skip-client-san-verification': 'warn',
  });
  const messages = config.unsupported.map((u) => u.message);
  assert.ok(messages.includes(
    '--peer-crl-file: peer certificate revocation lists are not checked yet; refusing to ' +
      'accept peer certificates that may be revoked',
  ));
  assert.equal(config.peerTls.crlFile, 'peer.crl');
  assert.equal(config.peerTls.allowedCn, 'etcd-peer');
});

test('peer tls - client TLS stays refused: client https URLs and the client TLS flags', () => {
  const { config } = run([
    ...HTTPS_PEER,
    '--peer-auto-tls',
    '--listen-client-urls', 'https://127.0.0.1:2379',
    '--advertise-client-urls', 'https://127.0.0.1:2379',
    '--auto-tls',
  ]);
  assert.deepEqual(config.unsupported.map((u) => [u.flag, u.severity]), [
    ['auto-tls', 'refuse'],
    ['https URL', 'refuse'],
  ]);
  const https = config.unsupported.find((u) => u.flag === 'https URL');
  assert.ok(https?.message.startsWith('TLS URLs (https://127.0.0.1:2379): '), https?.message);
});
