// One port for everything: gRPC over h2c and TLS, HTTP/1.1 and plain HTTP/2 requests to HTTP
// handlers, h2load hammering unary Puts, and a graceful, idempotent close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { GrpcServer, HttpHandler } from '../../../src/api/grpc/server/index.ts';
import { codec, services } from '../../../src/proto/index.ts';
import { client, deferred, startServer, unary } from './helpers.ts';

const health: HttpHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"health":"true","reason":""}');
};

function register(server: GrpcServer): void {
  server.addService(services['etcdserverpb.KV'], {
    Put: (req) => ({ header: { revision: 1 }, prevKv: { key: req.key } }),
  });
  server.addHttpHandler('/health', health);
}

function httpGet(url: string, options: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  const get = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve, reject) => {
    get(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('grpc - one plaintext port serves gRPC, HTTP/1.1 and plain HTTP/2 requests', async () => {
  const { server, port } = await startServer(register);
  const kv = client('KV', port);
  try {
    const h1 = await httpGet(`http://127.0.0.1:${port}/health`);
    assert.equal(h1.status, 200);
    assert.equal(h1.body, '{"health":"true","reason":""}');
    assert.equal((await httpGet(`http://127.0.0.1:${port}/nope`)).status, 404);

    const session = http2.connect(`http://127.0.0.1:${port}`);
    const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = session.request({ ':path': '/health' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
    });
    session.close();
    assert.equal(h2.status, 200);
    assert.equal(h2.body, '{"health":"true","reason":""}');

    const res = await unary<{ prev_kv: { key: Buffer } }>(kv, 'Put', { key: Buffer.from('x') });
    assert.equal(res.prev_kv.key.toString(), 'x');
  } finally {
    kv.close();
    await server.close();
  }
});

test('grpc - TLS serves gRPC over h2 and HTTP/1.1 by ALPN with a self-signed certificate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    const { server, port } = await startServer(register, { tls: { key, cert } });
    const kv = client('KV', port, grpc.credentials.createSsl(cert));
    try {
      const res = await unary<{ prev_kv: { key: Buffer } }>(kv, 'Put', { key: Buffer.from('secure') });
      assert.equal(res.prev_kv.key.toString(), 'secure');
      const h1 = await httpGet(`https://127.0.0.1:${port}/health`, { ca: cert });
      assert.equal(h1.status, 200);
      assert.equal(h1.body, '{"health":"true","reason":""}');
    } finally {
      kv.close();
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('grpc - h2load posting unary Puts gets every call answered', { skip: !existsSync('/usr/bin/h2load') }, async () => {
  const { server, port } = await startServer(register);
  const dir = mkdtempSync(join(tmpdir(), 'concord-h2load-'));
  try {
    const body = join(dir, 'body.bin');
    writeFileSync(body, codec('etcdserverpb.PutRequest').encodeFrame({ key: 'k'.repeat(32), value: 'v'.repeat(256) }));
    // spawnSync would block the event loop the server runs on: run h2load asynchronously.
    const out = await new Promise<string>((resolve, reject) => {
      const args = ['-n', '2000', '-c', '2', '-m', '64', '-H', 'content-type: application/grpc',
        '-H', 'te: trailers', '-d', body, `http://127.0.0.1:${port}${services['etcdserverpb.KV'].Put.path}`];
      execFile('h2load', args, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    assert.match(out, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/);
    assert.match(out, /status codes: 2000 2xx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.close();
  }
});

test('grpc - close lets an in-flight call finish, refuses new connections and is idempotent', async () => {
  const started = deferred();
  const { server, port } = await startServer((s) =>
    s.addService(services['etcdserverpb.KV'], {
      Put: () => {
        started.resolve();
        return new Promise((resolve) => setTimeout(() => resolve({ header: { revision: 9 } }), 200));
      },
    }),
  );
  const kv = client('KV', port);
  try {
    const inFlight = unary<{ header: { revision: string } }>(kv, 'Put', {});
    await started.promise;
    const closing = server.close(2000);
    assert.equal(server.close(), closing);
    assert.equal((await inFlight).header.revision, '9');
    await closing;
    const refused = spawnSync(process.execPath, ['-e', `require('net').connect(${port},'127.0.0.1').on('error',()=>process.exit(3)).on('connect',()=>process.exit(0))`]);
    assert.equal(refused.status, 3);
  } finally {
    kv.close();
    await server.close();
  }
});
