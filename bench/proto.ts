// Micro-benchmark of the hot-path codecs: encode+decode round trips per second for PutRequest,
// PutResponse and a RangeResponse of 10 kvs (32-byte keys, 256-byte values), beside protobufjs's
// reflection codec on the same messages for reference.  Run: npx tsx bench/proto.ts
import { bigintToLong, codec, protoRoot } from '../src/proto/index.ts';
import type { Init, MessageName, MessageTypes } from '../src/proto/index.ts';

const DURATION_MS = 1000;

function measure(label: string, fn: () => void): void {
  for (let i = 0; i < 20_000; i++) fn(); // warm up the JIT
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < DURATION_MS) {
    for (let i = 0; i < 1000; i++) fn();
    ops += 1000;
    now = performance.now();
  }
  const perSec = Math.round((ops * 1000) / (now - start));
  console.log(`${label.padEnd(44)} ${perSec.toLocaleString('en-US').padStart(12)} encode+decode/s`);
}

function ours<N extends MessageName>(name: N, msg: Init<MessageTypes[N]>): void {
  const c = codec(name);
  measure(`concord   ${name}`, () => {
    c.decode(c.encode(msg));
  });
}

function protobufjs(name: string, msg: object): void {
  const t = protoRoot.lookupType(name);
  const m = t.fromObject(msg);
  measure(`protobufjs ${name}`, () => {
    t.decode(t.encode(m).finish());
  });
}

const key = Buffer.alloc(32, 'k');
const value = Buffer.alloc(256, 'v');
const header = { clusterId: 0x1234567890abcdefn, memberId: 0xfedcba9876543210n, revision: 123456, raftTerm: 7 };
const kv = { key, value, createRevision: 1000, modRevision: 123456, version: 3, lease: 0x694d7e0f1a2b3c4dn };
const range = { header, kvs: Array.from({ length: 10 }, () => kv), count: 10 };

ours('etcdserverpb.PutRequest', { key, value, lease: 0x694d7e0f1a2b3c4dn });
ours('etcdserverpb.PutResponse', { header });
ours('etcdserverpb.RangeResponse', range);

const pjHeader = {
  cluster_id: bigintToLong(header.clusterId, true),
  member_id: bigintToLong(header.memberId, true),
  revision: 123456,
  raft_term: 7,
};
const pjKv = { key, value, create_revision: 1000, mod_revision: 123456, version: 3, lease: bigintToLong(kv.lease) };
protobufjs('etcdserverpb.PutRequest', { key, value, lease: bigintToLong(kv.lease) });
protobufjs('etcdserverpb.PutResponse', { header: pjHeader });
protobufjs('etcdserverpb.RangeResponse', { header: pjHeader, kvs: Array(10).fill(pjKv), count: 10 });
