// Unary calls through the lean server, driven by the grpc-js client: messages with bigint ids,
// metadata both ways, status codes and messages, deadlines, size limits, unknown methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { GrpcError, GrpcStatus } from '../../../src/api/grpc/server/index.ts';
import type { GrpcServer } from '../../../src/api/grpc/server/index.ts';
import { services } from '../../../src/proto/index.ts';
import { callError, client, deferred, startServer, unary } from './helpers.ts';

const KV = services['etcdserverpb.KV'];

function registerKv(server: GrpcServer): void {
  server.addService(KV, {
    Put: (req) => ({
      header: { clusterId: 2n ** 63n + 1n, memberId: 42n, revision: 7, raftTerm: 2 },
      prevKv: { key: req.key, value: req.value, lease: req.lease, modRevision: 6 },
    }),
    Range: (req) => ({
      header: { revision: 10 },
      kvs: Array.from({ length: 10 }, (_, i) => ({ key: `${Buffer.from(req.key).toString()}${i}`, version: i })),
      count: 10,
    }),
  });
}

test('grpc - a unary Put echoes through grpc-js with 64-bit ids intact', async () => {
  const { server, port } = await startServer(registerKv);
  const kv = client('KV', port);
  try {
    const res = await unary<{ header: Record<string, string>; prev_kv: Record<string, unknown> }>(
      kv,
      'Put',
      { key: Buffer.from('a'), value: Buffer.from('b'), lease: (2n ** 60n).toString() },
    );
    assert.equal(res.header.cluster_id, (2n ** 63n + 1n).toString());
    assert.equal(res.header.member_id, '42');
    assert.equal(res.header.revision, '7');
    assert.equal((res.prev_kv.key as Buffer).toString(), 'a');
    assert.equal((res.prev_kv.value as Buffer).toString(), 'b');
    assert.equal(res.prev_kv.lease, (2n ** 60n).toString());
  } finally {
    kv.close();
    await server.close();
  }
});

test('grpc - a Range answers ten kvs and many calls share one connection', async () => {
  const { server, port } = await startServer(registerKv);
  const kv = client('KV', port);
  try {
    const all = await Promise.all(
      Array.from({ length: 50 }, () => unary<{ kvs: { key: Buffer }[]; count: string }>(kv, 'Range', { key: Buffer.from('k') })),
    );
    for (const res of all) {
      assert.equal(res.kvs.length, 10);
      assert.equal(res.kvs[9]!.key.toString(), 'k9');
      assert.equal(res.count, '10');
    }
  } finally {
    kv.close();
    await server.close();
  }
});

test('grpc - metadata travels in, and out as headers and trailers', async () => {
  const { server, port } = await startServer((s) =>
    s.addService(KV, {
      Put: (_req, call) => {
        call.sendMetadata({ 'x-echo': String(call.metadata['x-token']), 'x-bin': Buffer.from([1, 2, 3]) });
        call.setTrailers({ 'x-trailer': 'done' });
        return {};
      },
    }),
  );
  const kv = client('KV', port);
  try {
    const md = new grpc.Metadata();
    md.set('x-token', 'abc');
    let headers: grpc.Metadata | undefined;
    const status = new Promise<grpc.StatusObject>((resolve) => {
      const call = kv.Put!({}, md, (err: unknown) => assert.equal(err, null)) as grpc.ClientUnaryCall;
      call.on('metadata', (m: grpc.Metadata) => (headers = m));
      call.on('status', resolve);
    });
    const st = await status;
    assert.equal(st.code, grpc.status.OK);
    assert.deepEqual(headers?.get('x-echo'), ['abc']);
    assert.deepEqual(headers?.get('x-bin'), [Buffer.from([1, 2, 3])]);
    assert.deepEqual(st.metadata.get('x-trailer'), ['done']);
  } finally {
    kv.close();
    await server.close();
  }
});

test('grpc - a GrpcError reaches the client as its code and exact message', async () => {
  const message = 'etcdserver: mvcc: required revision has been compacted (100% ü)';
  const { server, port } = await startServer((s) =>
    s.addService(KV, {
      Range: () => {
        throw new GrpcError(GrpcStatus.OUT_OF_RANGE, message);
      },
      Put: () => Promise.reject(new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'etcdserver: no leader')),
    }),
  );
  const kv = client('KV', port);
  try {
    const e1 = await callError(unary(kv, 'Range', {}));
    assert.equal(e1.code, grpc.status.OUT_OF_RANGE);
    assert.equal(e1.details, message);
    const e2 = await callError(unary(kv, 'Put', {}));
    assert.equal(e2.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(e2.details, 'etcdserver: no leader');
  } finally {
    kv.close();
    await server.close();
  }
});

test('grpc - any other thrown error is UNKNOWN with its message and no stack', async () => {
  const seen: unknown[] = [];
  const { server, port } = await startServer(
    (s) =>
      s.addService(KV, {
        Put: () => {
          throw new TypeError('boom');
        },
      }),
    { onHandlerError: (err) => seen.push(err) },
  );
  const kv = client('KV', port);
  try {
    const err = await callError(unary(kv, 'Put', {}));
    assert.equal(err.code, grpc.status.UNKNOWN);
    assert.equal(err.details, 'boom');
    assert.ok(!err.details.includes('at '));
    assert.equal(seen.length, 1);
  } finally {
    kv.close();
    await server.close();
  }
});

test('grpc - a deadline gives DEADLINE_EXCEEDED and aborts the handler signal', async () => {
  const aborted = deferred();
  let abortReason: unknown;
  const { server, port } = await startServer((s) =>
    s.addService(KV, {
      Put: (_req, call) =>
        new Promise((_resolve, reject) => {
          call.signal.addEventListener('abort', () => {
            abortReason = call.signal.reason;
            aborted.resolve();
            reject(call.signal.reason as Error);
          });
        }),
    }),
  );
  const kv = client('KV', port);
  try {
    const err = await callError(unary(kv, 'Put', {}, { deadlineMs: 100 }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    await aborted.promise;
    assert.ok(abortReason instanceof GrpcError);
    assert.ok(
      abortReason.code === GrpcStatus.DEADLINE_EXCEEDED || abortReason.code === GrpcStatus.CANCELLED,
    );
  } finally {
    kv.close();
    await server.close();
  }
});

test('grpc - a request over the size limit is RESOURCE_EXHAUSTED in grpc-go words', async () => {
  const { server, port } = await startServer(registerKv, { maxReceiveMessageBytes: 1024 });
  const kv = client('KV', port);
  try {
    const err = await callError(unary(kv, 'Put', { key: Buffer.from('k'), value: Buffer.alloc(2000) }));
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(err.details, /^grpc: received message larger than max \(\d+ vs\. 1024\)$/);
    const ok = await unary<{ prev_kv: { value: Buffer } }>(kv, 'Put', { value: Buffer.alloc(900) });
    assert.equal(ok.prev_kv.value.length, 900);
  } finally {
    kv.close();
    await server.close();
  }
});

test('grpc - unknown services and methods are UNIMPLEMENTED in grpc-go words', async () => {
  const { server, port } = await startServer(registerKv);
  const kv = client('KV', port);
  const cluster = client('Cluster', port);
  try {
    const e1 = await callError(unary(kv, 'Compact', {}));
    assert.equal(e1.code, grpc.status.UNIMPLEMENTED);
    assert.equal(e1.details, 'unknown method Compact for service etcdserverpb.KV');
    const e2 = await callError(unary(cluster, 'MemberList', {}));
    assert.equal(e2.code, grpc.status.UNIMPLEMENTED);
    assert.equal(e2.details, 'unknown service etcdserverpb.Cluster');
  } finally {
    kv.close();
    cluster.close();
    await server.close();
  }
});

test('grpc - a malformed request message is INTERNAL "error unmarshalling request"', async () => {
  const { server, port } = await startServer(registerKv);
  const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const err = await callError(
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest(
          KV.Put.path,
          () => Buffer.from('0a05616263', 'hex'), // key claims 5 bytes, 3 follow
          (b: Buffer) => b,
          {},
          (e, v) => (e ? reject(e) : resolve(v)),
        ),
      ),
    );
    assert.equal(err.code, grpc.status.INTERNAL);
    assert.match(err.details, /^grpc: error unmarshalling request: proto: /);
  } finally {
    raw.close();
    await server.close();
  }
});

test('grpc - gzip-compressed requests are inflated', async () => {
  const { server, port } = await startServer(registerKv);
  const kv = client('KV', port, grpc.credentials.createInsecure(), {
    'grpc.default_compression_algorithm': 2, // gzip
  });
  try {
    const value = Buffer.alloc(4000, 'z');
    const res = await unary<{ prev_kv: { value: Buffer } }>(kv, 'Put', { key: Buffer.from('k'), value });
    assert.deepEqual(res.prev_kv.value, value);
  } finally {
    kv.close();
    await server.close();
  }
});
