// Peer TLS: a CA and a peer certificate made with the openssl CLI, two transports on https URLs
// requiring client certificates, exchanging messages and a snapshot; /version answers over
// HTTPS/1.1 to a client with a certificate, and a client without one is turned away.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { MessageType } from '../../src/raft/index.ts';
import {
  app,
  connectAll,
  indexesFrom,
  makeCertificates,
  startMember,
  waitAllActive,
  waitFor,
} from './helpers.ts';

function httpsGet(url: string, options: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...options, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('transport - two members talk over TLS with client certificates required', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-transport-tls-'));
  const files = makeCertificates(dir);
  const tls = { ...files, clientCertAuth: true };
  let snapshotBytes = 0;
  const a = await startMember(1n, { tls, listenUrl: 'https://127.0.0.1:0' });
  const b = await startMember(2n, {
    tls,
    listenUrl: 'https://127.0.0.1:0',
    onSnapshot: async (_msg, body) => {
      for await (const chunk of body) snapshotBytes += chunk.length;
    },
  });
  try {
    assert.match(a.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    connectAll([a, b]);
    await waitAllActive([a, b]);
    for (let i = 0; i < 100; i++) {
      a.transport.send([app(1n, 2n, i)]);
      b.transport.send([app(2n, 1n, i)]);
    }
    await waitFor(() => a.received.length === 100 && b.received.length === 100, 'messages over TLS');
    assert.deepEqual(indexesFrom(b, 1n), Array.from({ length: 100 }, (_, i) => i));

    const snap = {
      type: MessageType.Snap,
      from: 1n,
      to: 2n,
      term: 1,
      snapshot: {
        data: new Uint8Array(0),
        metadata: { index: 5, term: 1, confState: { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
      },
    };
    async function* db(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 8; i++) yield new Uint8Array(100_000).fill(i);
    }
    await a.transport.sendSnapshot(snap, db);
    assert.equal(snapshotBytes, 800_000);

    const ca = readFileSync(files.trustedCaFile);
    const withCert = { ca, cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
    const version = await httpsGet(`${a.url}/version`, withCert);
    assert.deepEqual([version.status, version.body], [200, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}\n']);
    await assert.rejects(httpsGet(`${a.url}/version`, { ca }));
  } finally {
    await Promise.all([a.transport.close(), b.transport.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('transport - an https listen URL without TLS material is a configuration error', async () => {
  await assert.rejects(startMember(1n, { listenUrl: 'https://127.0.0.1:0' }), /is https but no peer TLS is configured/);
});
