// resolvePeerTls: the Config's peer TLS → the transport's TLS options. Auto TLS makes etcd's
// self-signed certificate in <data-dir>/fixtures/peer once and reuses it on restart; given files
// are checked at start with etcd's errors; two transports on auto-TLS certificates talk over
// https, and a peer that verifies certificates cannot reach them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { MemberError } from '../../src/server/errors.ts';
import {
  type PeerTlsConfig,
  certificateHosts,
  resolvePeerTls,
  selfSignedCertificate,
} from '../../src/server/peer-tls.ts';
import { app, connectAll, indexesFrom, startMember, waitAllActive } from '../transport/helpers.ts';

/** The peer TLS part of the Config parsed from `argv`, in `dataDir`. */
function configOf(dataDir: string, argv: string[]): PeerTlsConfig {
  const r = parseConfig(['--data-dir', dataDir, ...argv], {}, { verifyBootstrap: false });
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') throw new Error('unreachable');
  return r.config;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-peer-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const AUTO_TLS_PEERS = [
  '--peer-auto-tls',
  '--listen-peer-urls', 'https://127.0.0.1:2380,https://[::1]:2380,https://localhost:2381',
  '--initial-advertise-peer-urls', 'https://peer1.example.com:2380,https://127.0.0.1:2380',
];

test('peer tls - no peer TLS flags: plaintext peers', async (t) => {
  assert.equal(await resolvePeerTls(configOf(tempDir(t), [])), undefined);
});

test('peer tls - auto TLS writes etcd\'s self-signed certificate into fixtures/peer', async (t) => {
  const dataDir = join(tempDir(t), 'm1.concord');
  const now = new Date('2030-01-02T03:04:05Z');
  const config = configOf(dataDir, [...AUTO_TLS_PEERS, '--self-signed-cert-validity', '2']);
  const logs: string[] = [];
  const tls = await resolvePeerTls(config, { now, log: (_l, m) => logs.push(m) });
  const dir = join(dataDir, 'fixtures', 'peer');
  assert.deepEqual(tls, {
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem'),
    insecureSkipVerify: true,
  });
  const cert = new X509Certificate(readFileSync(join(dir, 'cert.pem')));
  assert.equal(cert.subject, 'O=etcd');
  assert.equal(cert.issuer, 'O=etcd');
  assert.equal(cert.ca, false);
  assert.equal(cert.subjectAltName, [
    'IP Address:127.0.0.1',
    'IP Address:0:0:0:0:0:0:0:1',
    'DNS:localhost',
    'DNS:peer1.example.com',
  ].join(', '));
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'server authentication, as etcd 3.4');
  assert.equal(new Date(cert.validFrom).getTime(), now.getTime());
  assert.equal(new Date(cert.validTo).getTime(), now.getTime() + 2 * 365 * 86_400_000);
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'secp521r1');
  assert.ok(cert.verify(cert.publicKey), 'self-signed');
  const keyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
  assert.match(keyPem, /^-----BEGIN EC PRIVATE KEY-----\n/);
  assert.ok(cert.checkPrivateKey(createPrivateKey(keyPem)));
  assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /created a self-signed certificate for 127\.0\.0\.1, ::1, localhost, peer1\.example\.com/);
});

test('peer tls - a restart reuses the certificate as etcd does, even for other URLs', async (t) => {
  const dataDir = tempDir(t);
  const first = await resolvePeerTls(configOf(dataDir, AUTO_TLS_PEERS));
  const dir = join(dataDir, 'fixtures', 'peer');
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const elsewhere = [
    '--peer-auto-tls',
    '--listen-peer-urls', 'https://127.0.0.9:2380',
    '--initial-advertise-peer-urls', 'https://127.0.0.9:2380',
  ];
  const second = await resolvePeerTls(configOf(dataDir, [...elsewhere, '--peer-client-cert-auth']));
  assert.deepEqual(second, first, 'the same files; client cert auth dropped, as etcd 3.4 does');
  assert.equal(readFileSync(join(dir, 'cert.pem'), 'utf8'), cert);
  assert.equal(readFileSync(join(dir, 'key.pem'), 'utf8'), key);
  // A pair with one half missing is made anew.
  unlinkSync(join(dir, 'key.pem'));
  await resolvePeerTls(configOf(dataDir, elsewhere));
  const remade = new X509Certificate(readFileSync(join(dir, 'cert.pem')));
  assert.equal(remade.subjectAltName, 'IP Address:127.0.0.9');
  assert.ok(remade.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'key.pem')))));
});

test('peer tls - given files win over auto TLS; a trusted CA requires client certificates', async (t) => {
  const dir = tempDir(t);
  const pem = await selfSignedCertificate(['127.0.0.1'], 1, new Date());
  writeFileSync(join(dir, 'peer.crt'), pem.cert);
  writeFileSync(join(dir, 'peer.key'), pem.key);
  const files = ['--peer-cert-file', join(dir, 'peer.crt'), '--peer-key-file', join(dir, 'peer.key')];
  assert.deepEqual(await resolvePeerTls(configOf(dir, [...files, '--peer-auto-tls'])), {
    certFile: join(dir, 'peer.crt'),
    keyFile: join(dir, 'peer.key'),
    clientCertAuth: false,
  });
  assert.deepEqual(
    await resolvePeerTls(configOf(dir, [...files, '--peer-trusted-ca-file', join(dir, 'peer.crt')])),
    {
      certFile: join(dir, 'peer.crt'),
      keyFile: join(dir, 'peer.key'),
      trustedCaFile: join(dir, 'peer.crt'),
      clientCertAuth: true,
    },
  );
  assert.throws(() => statSync(join(dir, 'fixtures')), /ENOENT/, 'nothing generated');
});

test('peer tls - unreadable or mismatched files fail at start with etcd\'s words', async (t) => {
  const dir = tempDir(t);
  const a = await selfSignedCertificate(['127.0.0.1'], 1, new Date());
  const b = await selfSignedCertificate(['127.0.0.1'], 1, new Date());
  writeFileSync(join(dir, 'a.crt'), a.cert);
  writeFileSync(join(dir, 'b.key'), b.key);
  const missing = join(dir, 'missing.crt');
  await assert.rejects(
    resolvePeerTls(configOf(dir, ['--peer-cert-file', missing, '--peer-key-file', join(dir, 'b.key')])),
    (err: unknown) =>
      err instanceof MemberError &&
      err.code === 'bad-config' &&
      err.message === `open ${missing}: no such file or directory`,
  );
  await assert.rejects(
    resolvePeerTls(configOf(dir, ['--peer-cert-file', join(dir, 'a.crt'), '--peer-key-file', join(dir, 'b.key')])),
    /peer TLS: cannot use --peer-cert-file .*a\.crt, --peer-key-file .*b\.key: .*mismatch/,
  );
  writeFileSync(join(dir, 'a.key'), a.key);
  writeFileSync(join(dir, 'bad-ca.crt'), 'not a certificate\n');
  await assert.rejects(
    resolvePeerTls(configOf(dir, [
      '--peer-cert-file', join(dir, 'a.crt'),
      '--peer-key-file', join(dir, 'a.key'),
      '--peer-trusted-ca-file', join(dir, 'bad-ca.crt'),
    ])),
    /--peer-trusted-ca-file .*bad-ca\.crt: /,
  );
});

test('peer tls - certificate hosts: IPs and names of http(s) URLs, each once', () => {
  assert.deepEqual(
    certificateHosts([
      'https://127.0.0.1:2380',
      'http://127.0.0.1:2381',
      'https://[fe80::1]:2380',
      'https://node-1:2380',
      'unixs://socket:1',
    ]),
    ['127.0.0.1', 'fe80::1', 'node-1'],
  );
});

test('peer tls - two transports on auto-TLS certificates talk over https', async (t) => {
  const tlsOf = async (name: string) => {
    const dataDir = join(tempDir(t), name);
    const tls = await resolvePeerTls(configOf(dataDir, ['--peer-auto-tls', '--listen-peer-urls', 'https://127.0.0.1:0']));
    assert.ok(tls !== undefined);
    return tls;
  };
  const a = await startMember(1n, { tls: await tlsOf('a'), listenUrl: 'https://127.0.0.1:0' });
  const b = await startMember(2n, { tls: await tlsOf('b'), listenUrl: 'https://127.0.0.1:0' });
  // A peer that verifies server certificates (no insecureSkipVerify) cannot trust them.
  const { insecureSkipVerify: _, ...verifying } = await tlsOf('c');
  const c = await startMember(3n, { tls: verifying, listenUrl: 'https://127.0.0.1:0' });
  try {
    assert.match(a.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    connectAll([a, b]);
    await waitAllActive([a, b]);
    for (let i = 0; i < 50; i++) {
      a.transport.send([app(1n, 2n, i)]);
      b.transport.send([app(2n, 1n, i)]);
    }
    const all = Array.from({ length: 50 }, (_, i) => i);
    const deadline = Date.now() + 5000;
    while (indexesFrom(b, 1n).length < 50 || indexesFrom(a, 2n).length < 50) {
      assert.ok(Date.now() < deadline, 'messages over auto TLS');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.deepEqual(indexesFrom(b, 1n), all);
    assert.deepEqual(indexesFrom(a, 2n), all);

    c.transport.addPeer(1n, [a.url]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(c.transport.isActive(1n), false, 'a verifying peer rejects the self-signed certificate');
  } finally {
    await Promise.all([a.transport.close(), b.transport.close(), c.transport.close()]);
  }
});
