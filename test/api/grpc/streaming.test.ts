// Streaming calls through the lean server with grpc-js: bidi Watch and LeaseKeepAlive, server
// streaming Snapshot, client streaming on a toy method, client cancel reaching the handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { GrpcError, GrpcStatus } from '../../../src/api/grpc/server/index.ts';
import type { MethodDefinition } from '../../../src/api/grpc/server/index.ts';
import { codec, services } from '../../../src/proto/index.ts';
import type { Init, PutRequest, PutResponse } from '../../../src/proto/index.ts';
import { client, deferred, startServer } from './helpers.ts';

test('grpc - a bidi Watch answers each create and ends with OK when the client ends', async () => {
  const { server, port } = await startServer((s) =>
    s.addService(services['etcdserverpb.Watch'], {
      Watch: async (requests, call) => {
        let nextId = 0;
        for await (const req of requests) {
          if (req.createRequest === undefined) continue;
          const key = req.createRequest.key;
          await call.send({
            header: { revision: 5, memberId: 2n ** 62n },
            watchId: nextId++,
            created: true,
            events: [{ type: 0, kv: { key, value: 'v', modRevision: 5 } }],
          });
        }
      },
    }),
  );
  const watch = client('Watch', port);
  try {
    const stream = watch.Watch!() as grpc.ClientDuplexStream<object, Record<string, unknown>>;
    const got: Record<string, unknown>[] = [];
    const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.on('data', (m: Record<string, unknown>) => {
      got.push(m);
      if (got.length === 3) stream.end();
    });
    for (const k of ['a', 'b', 'c']) stream.write({ create_request: { key: Buffer.from(k) } });
    const status = await ended;
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(
      got.map((m) => m.watch_id),
      ['0', '1', '2'],
    );
    const events = got[2]!.events as { kv: { key: Buffer } }[];
    assert.equal(events[0]!.kv.key.toString(), 'c');
    assert.equal((got[0]!.header as Record<string, string>).member_id, (2n ** 62n).toString());
  } finally {
    watch.close();
    await server.close();
  }
});

test('grpc - a bidi LeaseKeepAlive streams many responses and a cancel aborts the handler', async () => {
  const aborted = deferred<unknown>();
  const { server, port } = await startServer((s) =>
    s.addService(services['etcdserverpb.Lease'], {
      LeaseKeepAlive: async (requests, call) => {
        call.signal.addEventListener('abort', () => aborted.resolve(call.signal.reason));
        for await (const req of requests) await call.send({ ID: req.ID, TTL: 60 });
      },
    }),
  );
  const lease = client('Lease', port);
  try {
    const stream = lease.LeaseKeepAlive!() as grpc.ClientDuplexStream<object, { ID: string; TTL: string }>;
    const ids: string[] = [];
    const hundred = deferred();
    stream.on('data', (m: { ID: string; TTL: string }) => {
      ids.push(m.ID);
      if (ids.length === 100) hundred.resolve();
    });
    stream.on('error', () => {}); // the cancel surfaces here as CANCELLED
    const big = 2n ** 60n + 5n;
    for (let i = 0; i < 100; i++) stream.write({ ID: (big + BigInt(i)).toString() });
    await hundred.promise;
    assert.equal(ids[99], (big + 99n).toString());
    stream.cancel();
    const reason = await aborted.promise;
    assert.ok(reason instanceof GrpcError);
    assert.equal(reason.code, GrpcStatus.CANCELLED);
  } finally {
    lease.close();
    await server.close();
  }
});

test('grpc - a server-streaming Snapshot sends its chunks, then a status', async () => {
  const { server, port } = await startServer((s) =>
    s.addService(services['etcdserverpb.Maintenance'], {
      Snapshot: async (_req, call) => {
        for (let i = 3; i >= 1; i--) await call.send({ remainingBytes: i - 1, blob: Buffer.alloc(100_000, i) });
        throw new GrpcError(GrpcStatus.DATA_LOSS, 'toy failure after the data');
      },
    }),
  );
  const maintenance = client('Maintenance', port);
  try {
    const stream = maintenance.Snapshot!({}) as grpc.ClientReadableStream<{ blob: Buffer }>;
    const blobs: Buffer[] = [];
    stream.on('data', (m: { blob: Buffer }) => blobs.push(m.blob));
    const err = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    assert.equal(blobs.length, 3);
    assert.equal(blobs[2]![0], 1);
    assert.equal(err.code, grpc.status.DATA_LOSS);
    assert.equal(err.details, 'toy failure after the data');
  } finally {
    maintenance.close();
    await server.close();
  }
});

test('grpc - a client-streaming method reads every request, then answers once', async () => {
  const put = services['etcdserverpb.KV'].Put;
  const sum: MethodDefinition<PutRequest, Init<PutResponse>, true, false> = {
    path: '/toy.Sum/Put',
    clientStreaming: true,
    serverStreaming: false,
    request: put.request,
    response: put.response,
  };
  const { server, port } = await startServer((s) =>
    s.addMethod(sum, async (requests) => {
      let n = 0;
      for await (const req of requests) n += req.value.length;
      return { header: { revision: n } };
    }),
  );
  const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const reqCodec = codec('etcdserverpb.PutRequest');
    const resCodec = codec('etcdserverpb.PutResponse');
    const done = new Promise<PutResponse>((resolve, reject) => {
      const call = raw.makeClientStreamRequest(
        sum.path,
        (m: Init<PutRequest>) => reqCodec.encode(m),
        (b: Buffer) => resCodec.decode(b),
        (err, res) => (err ? reject(err) : resolve(res!)),
      );
      for (let i = 0; i < 200; i++) call.write({ value: Buffer.alloc(10) });
      call.end();
    });
    assert.equal((await done).header?.revision, 2000);
  } finally {
    raw.close();
    await server.close();
  }
});
