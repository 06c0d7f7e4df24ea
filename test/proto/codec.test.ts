// The compiled codecs against hand-encoded bytes (what etcd's gogoproto writes) and against
// protobufjs's own reflection codec, for every message of the API with random field values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bigintToLong,
  codec,
  longToBigint,
  messageSchemas,
  ProtoDecodeError,
  protoRoot,
  services,
} from '../../src/proto/index.ts';
import type { FieldSchema, MessageName, MessageSchema } from '../../src/proto/index.ts';
import { SeededRng } from '../../src/util/rng.ts';

test('proto - PutRequest{key a, value b, lease 2^60} encodes to the bytes etcd writes', () => {
  const bytes = codec('etcdserverpb.PutRequest').encode({ key: 'a', value: 'b', lease: 2n ** 60n });
  // field 1 (bytes) "a", field 2 (bytes) "b", field 3 (varint) 2^60 = eight 0x80 then 0x10
  assert.equal(bytes.toString('hex'), '0a0161' + '120162' + '18' + '8080808080808080' + '10');
  const back = codec('etcdserverpb.PutRequest').decode(bytes);
  assert.equal(back.lease, 2n ** 60n);
  assert.equal(Buffer.from(back.key).toString(), 'a');
  assert.equal(back.prevKv, false);
});

test('proto - ResponseHeader ids above 2^53 and a negative int64 encode as gogoproto does', () => {
  const header = { clusterId: 0xffffffffffffffffn, memberId: 2n ** 53n + 1n, revision: -1, raftTerm: 5 };
  const bytes = codec('etcdserverpb.ResponseHeader').encode(header);
  const ones = 'ffffffffffffffffff01'; // 64 one bits: nine 7-bit groups, then 0x01
  const twoTo53Plus1 = '818080808080801' + '0'; // 2^53+1
  assert.equal(bytes.toString('hex'), `08${ones}10${twoTo53Plus1}18${ones}2005`);
  assert.deepEqual(codec('etcdserverpb.ResponseHeader').decode(bytes), header);
});

test('proto - Compare writes a oneof member set to zero and range_end as field 64', () => {
  const bytes = codec('etcdserverpb.Compare').encode({ key: 'k', version: 0, rangeEnd: 'z' });
  // key (3), version (4) = 0 present because it is a oneof member, range_end (64): tag 0x82 0x04
  assert.equal(bytes.toString('hex'), '1a016b' + '2000' + '8204017a');
  const back = codec('etcdserverpb.Compare').decode(bytes);
  assert.equal(back.version, 0);
  assert.equal(back.modRevision, undefined);
});

test('proto - WatchCreateRequest filters are packed and read packed or unpacked', () => {
  const c = codec('etcdserverpb.WatchCreateRequest');
  assert.equal(c.encode({ filters: [0, 1] }).toString('hex'), '2a020001');
  assert.deepEqual(c.decode(Buffer.from('28002801', 'hex')).filters, [0, 1]);
});

test('proto - malformed bytes fail with ProtoDecodeError', () => {
  const c = codec('etcdserverpb.PutRequest');
  assert.throws(() => c.decode(Buffer.from('0a05616263', 'hex')), ProtoDecodeError); // short bytes
  assert.throws(() => c.decode(Buffer.from('18ffff', 'hex')), ProtoDecodeError); // cut varint
  assert.throws(() => c.decode(Buffer.from('0f', 'hex')), ProtoDecodeError); // wire type 7
  const header = codec('etcdserverpb.PutResponse');
  assert.throws(() => header.decode(Buffer.from('0a031801', 'hex')), ProtoDecodeError); // overrun
});

test('proto - encodeFrame prefixes the gRPC 5-byte header', () => {
  const frame = codec('etcdserverpb.PutRequest').encodeFrame({ key: 'ab' });
  assert.equal(frame.toString('hex'), '00' + '00000004' + '0a026162');
});

test('proto - the service table has every etcd v3.4 method with its streaming shape', () => {
  assert.equal(services['etcdserverpb.KV'].Put.path, '/etcdserverpb.KV/Put');
  assert.equal(services['etcdserverpb.Watch'].Watch.clientStreaming, true);
  assert.equal(services['etcdserverpb.Watch'].Watch.serverStreaming, true);
  assert.equal(services['etcdserverpb.Maintenance'].Snapshot.serverStreaming, true);
  assert.equal(services['etcdserverpb.Maintenance'].Snapshot.clientStreaming, false);
  assert.equal(services['v3electionpb.Election'].Observe.requestType, 'v3electionpb.LeaderRequest');
  assert.equal(services['v3lockpb.Lock'].Unlock.responseType, 'v3lockpb.UnlockResponse');
  assert.equal(Object.keys(services['etcdserverpb.Auth']).length, 16);
  assert.equal(Object.keys(services['etcdserverpb.Maintenance']).length, 7);
});

test('proto - Long and bigint convert both ways, signed and unsigned', () => {
  for (const v of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 3n]) {
    assert.equal(longToBigint(bigintToLong(v)), v);
  }
  assert.equal(longToBigint(bigintToLong(2n ** 64n - 1n, true), true), 2n ** 64n - 1n);
});

// --- random cross-check with protobufjs --------------------------------------------------------

type Obj = Record<string, unknown>;

function randomScalar(f: FieldSchema, rng: SeededRng): unknown {
  const big = (): bigint => (BigInt(rng.next()) << 32n) | BigInt(rng.next());
  switch (f.kind) {
    case 'bytes':
      return Buffer.from(Array.from({ length: 1 + rng.int(6) }, () => rng.int(256)));
    case 'string':
      return ['a', 'ключ', 'x'.repeat(200), 'ü€'][rng.int(4)]!;
    case 'bool':
      return true;
    case 'int32':
    case 'enum':
      return 1 + rng.int(4);
    case 'uint32':
      return rng.next() || 1;
    case 'int64Number':
      return [1, -7, 2 ** 40 + 3, -(2 ** 50), Number.MAX_SAFE_INTEGER][rng.int(5)]!;
    case 'uint64Number':
      return [1, 300, 2 ** 45 + 1][rng.int(3)]!;
    case 'int64Bigint':
      return BigInt.asIntN(64, big()) || 1n;
    case 'uint64Bigint':
      return big() || 1n;
    case 'message':
      throw new Error('unreachable');
  }
}

function randomMessage(schema: MessageSchema, rng: SeededRng, depth: number): Obj {
  const out: Obj = {};
  const oneofDone = new Set<string>();
  for (const f of schema.fields) {
    if (rng.int(3) === 0) continue;
    if (f.oneof !== undefined && oneofDone.has(f.oneof)) continue;
    if (f.oneof !== undefined) oneofDone.add(f.oneof);
    const one = (): unknown =>
      f.kind === 'message'
        ? depth > 2
          ? {}
          : randomMessage(messageSchemas.get(f.typeName!)!, rng, depth + 1)
        : randomScalar(f, rng);
    out[f.jsName] = f.repeated ? Array.from({ length: 1 + rng.int(3) }, one) : one();
  }
  return out;
}

/** The same message in protobufjs's shape: proto field names, Longs for 64-bit values. */
function toProtobufjs(schema: MessageSchema, msg: Obj): Obj {
  const out: Obj = {};
  for (const f of schema.fields) {
    const v = msg[f.jsName];
    if (v === undefined) continue;
    const conv = (x: unknown): unknown => {
      if (f.kind === 'message') return toProtobufjs(messageSchemas.get(f.typeName!)!, x as Obj);
      if (typeof x === 'bigint') return bigintToLong(x, f.kind === 'uint64Bigint');
      return x;
    };
    out[f.protoName] = Array.isArray(v) ? v.map(conv) : conv(v);
  }
  return out;
}

/** What our decoder returns for `msg`: every absent field at its proto3 default. */
function withDefaults(schema: MessageSchema, msg: Obj): Obj {
  const out: Obj = {};
  for (const f of schema.fields) {
    const v = msg[f.jsName];
    const sub = (x: unknown): unknown =>
      f.kind === 'message' ? withDefaults(messageSchemas.get(f.typeName!)!, x as Obj) : x;
    if (v !== undefined) out[f.jsName] = Array.isArray(v) ? v.map(sub) : sub(v);
    else if (f.repeated) out[f.jsName] = [];
    else if (f.kind === 'message' || f.oneof !== undefined) out[f.jsName] = undefined;
    else out[f.jsName] = defaultOf(f);
  }
  return out;
}

function defaultOf(f: FieldSchema): unknown {
  if (f.kind === 'bytes') return Buffer.alloc(0);
  if (f.kind === 'string') return '';
  if (f.kind === 'bool') return false;
  if (f.kind === 'int64Bigint' || f.kind === 'uint64Bigint') return 0n;
  return 0;
}

test('proto - every message round-trips and matches protobufjs byte for byte', () => {
  const rng = new SeededRng(20240601);
  for (const [name, schema] of messageSchemas) {
    const ours = codec(name as MessageName);
    const theirs = protoRoot.lookupType(name);
    for (let i = 0; i < 25; i++) {
      const msg = randomMessage(schema, rng, 0);
      const bytes = ours.encode(msg as never);
      const expected = Buffer.from(theirs.encode(theirs.fromObject(toProtobufjs(schema, msg))).finish());
      assert.equal(bytes.toString('hex'), expected.toString('hex'), `${name} #${i}`);
      assert.deepEqual(ours.decode(bytes), withDefaults(schema, msg), `${name} #${i} decode`);
      assert.equal(ours.encodedSize(msg as never), bytes.length);
    }
  }
});
