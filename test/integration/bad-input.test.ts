// Bad input against a real concord over gRPC, each request also sent to a real etcd 3.4: requests
// over the size limits, malformed protobuf and malformed gRPC frames, empty keys, oversized and
// conflicting txns, unknown leases, revisions out of range, contradictory flags, and a backend
// that fills its quota (NOSPACE). Codes and messages must be etcd's; after every bad input the
// server keeps serving and the data written before it is intact.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ConcordProcess, requireTool, startConcord } from './concord-process.ts';
import { ETCD_BIN, ETCDCTL_BIN, type EtcdProcess, startEtcd } from './etcd-process.ts';
import { etcdctl } from './etcdctl-side.ts';
import { type Outcome, frame, rawCall, status, unary } from './grpc-raw.ts';

const tools = [requireTool(ETCD_BIN), requireTool(ETCDCTL_BIN)];
const skip = tools.find((t) => t.skip !== false)?.skip ?? false;

const PUT = '/etcdserverpb.KV/Put';
const RANGE = '/etcdserverpb.KV/Range';
const DELETE = '/etcdserverpb.KV/DeleteRange';
const TXN = '/etcdserverpb.KV/Txn';
const COMPACT = '/etcdserverpb.KV/Compact';
const LEASE_GRANT = '/etcdserverpb.Lease/LeaseGrant';
const MiB = 1024 * 1024;
const b = (s: string): Buffer => Buffer.from(s);
const puts = (n: number, prefix = 't'): object[] => Array.from({ length: n }, (_, i) => ({ requestPut: { key: b(`${prefix}${i}`), value: b('v') } }));

interface Server {
  name: string;
  endpoint: string;
}

/** The revision a successful response's header carries. */
function revisionOf(o: Outcome): number {
  assert.ok(o.ok, `expected success, got ${status(o)}`);
  return (o.value as { header: { revision: number } }).header.revision;
}

/** The values of every key under `prefix`, read with a linearizable range. */
async function values(endpoint: string, prefix: string): Promise<Record<string, string>> {
  const end = b(prefix);
  end[end.length - 1]! += 1;
  const res = await unary(endpoint, RANGE, { key: b(prefix), rangeEnd: end });
  assert.ok(res.ok, `range ${prefix} on ${endpoint}: ${status(res)}`);
  const kvs = (res.value as { kvs: Array<{ key: Uint8Array; value: Uint8Array }> }).kvs;
  return Object.fromEntries(kvs.map((kv) => [Buffer.from(kv.key).toString(), Buffer.from(kv.value).toString()]));
}

describe('bad input to concord answers as etcd does', { skip }, () => {
  let concord: ConcordProcess | undefined;
  let etcd: EtcdProcess | undefined;
  let servers: Server[];

  before(async () => {
    [concord, etcd] = await Promise.all([startConcord(), startEtcd()]);
    servers = [{ name: 'concord', endpoint: concord.endpoint }, { name: 'etcd', endpoint: etcd.endpoint }];
    for (const s of servers) {
      for (const [k, v] of [['keep/a', '1'], ['keep/b', '2'], ['keep/a', '3']]) assert.ok((await unary(s.endpoint, PUT, { key: b(k!), value: b(v!) })).ok);
    }
  });

  after(async () => {
    await Promise.all([concord?.stop(), etcd?.stop()]);
    concord?.cleanup();
  });

  /** Sends the same request to both servers; asserts equal statuses; returns concord's. */
  async function same(path: string, request: object | Buffer): Promise<string> {
    const [mine, theirs] = await Promise.all(servers.map(async (s) => status(await unary(s.endpoint, path, request))));
    assert.equal(mine, theirs, `${path}: concord (actual) vs etcd (expected)`);
    return mine!;
  }

  /** Both servers still serve, with the data written before the bad input. */
  async function intact(): Promise<void> {
    for (const s of servers) assert.deepEqual(await values(s.endpoint, 'keep/'), { 'keep/a': '3', 'keep/b': '2' }, s.name);
  }

  test('a request over --max-request-bytes is too large; one over the gRPC limit is RESOURCE_EXHAUSTED', async () => {
    assert.equal(await same(PUT, { key: b('big'), value: Buffer.alloc(1.6 * MiB, 1) }), 'INVALID_ARGUMENT: etcdserver: request is too large');
    assert.equal(await same(TXN, { success: [0, 1].map((i) => ({ requestPut: { key: b(`big${i}`), value: Buffer.alloc(0.8 * MiB, 1) } })) }), 'INVALID_ARGUMENT: etcdserver: request is too large');
    const over = await same(PUT, { key: b('big'), value: Buffer.alloc(3 * MiB, 1) });
    assert.match(over, /^RESOURCE_EXHAUSTED: grpc: received message larger than max \(\d+ vs\. 2097152\)$/);
    assert.match(await same(PUT, { key: b('big'), value: Buffer.alloc(2 * MiB + 1, 1) }), /^RESOURCE_EXHAUSTED/);
    assert.equal(await same(PUT, { key: b('big'), value: Buffer.alloc(1.5 * MiB - 100, 1) }), 'ok');
    assert.equal(await same(DELETE, { key: b('big') }), 'ok');
    await intact();
  });

  test('malformed protobuf in a Put is INTERNAL "grpc: error unmarshalling request"', async () => {
    const malformed = [
      Buffer.from([0x0a, 0x10, 0x61]), // key: 16 bytes announced, 1 given
      Buffer.from([0xff, 0xff, 0xff]), // a tag that never ends
      Buffer.from([0x18, ...Array<number>(11).fill(0xff)]), // lease: a varint over 64 bits
    ];
    for (const bytes of malformed) {
      for (const s of servers) {
        const res = await unary(s.endpoint, PUT, bytes);
        // NB: the detail after the prefix is the decoder's own wording (Go's differs).
        assert.ok(!res.ok && res.code === 13 && res.details.startsWith('grpc: error unmarshalling request: '), `${s.name}: ${status(res)}`);
      }
    }
    await intact();
  });

  test('malformed gRPC frames end the call with a status and leave the server serving', async () => {
    const put = b('\x0a\x01k\x12\x01v');
    const cases: Array<{ name: string; body: Buffer; headers?: Record<string, string>; code: string; message: RegExp; sameAsEtcd: boolean }> = [
      { name: 'a frame shorter than its length', body: frame(put, { length: 100 }), code: '13', message: /unexpected EOF/, sameAsEtcd: false },
      { name: 'half a frame header', body: Buffer.from([0, 0, 0]), code: '13', message: /unexpected EOF/, sameAsEtcd: false },
      { name: 'no message at all', body: Buffer.alloc(0), code: '13', message: /grpc: error unmarshalling request/, sameAsEtcd: false },
      { name: 'the compressed flag without an encoding', body: frame(put, { compressed: true }), code: '13', message: /^grpc: compressed flag set with identity or empty encoding$/, sameAsEtcd: true },
      { name: 'an unknown encoding', body: frame(put, { compressed: true }), headers: { 'grpc-encoding': 'snappy' }, code: '12', message: /^grpc: Decompressor is not installed for grpc-encoding "snappy"$/, sameAsEtcd: true },
      { name: 'a 4 GiB length', body: frame(put, { length: 0xffff_ffff }), code: '8', message: /^grpc: received message larger than max \(4294967295 vs\. 2097152\)$/, sameAsEtcd: true },
    ];
    for (const c of cases) {
      const [mine, theirs] = await Promise.all(servers.map((s) => rawCall(s.endpoint, PUT, c.body, c.headers)));
      assert.equal(mine!.httpStatus, 200, c.name);
      assert.equal(mine!.grpcStatus, c.code, `${c.name}: ${JSON.stringify(mine)}`);
      assert.match(mine!.grpcMessage ?? '', c.message, c.name);
      if (c.sameAsEtcd) assert.deepEqual(mine, theirs, `${c.name}: concord (actual) vs etcd (expected)`);
      else assert.notEqual(theirs!.grpcStatus, '0', `${c.name}: etcd accepted it`);
    }
    await intact();
  });

  test('an empty key is refused with "key is not provided" in every request that takes one', async () => {
    const empty = 'INVALID_ARGUMENT: etcdserver: key is not provided';
    assert.equal(await same(PUT, { key: b(''), value: b('v') }), empty);
    assert.equal(await same(RANGE, { key: b('') }), empty);
    assert.equal(await same(DELETE, { key: b('') }), empty);
    assert.equal(await same(TXN, { success: [{ requestPut: { key: b(''), value: b('v') } }] }), empty);
    assert.equal(await same(TXN, { failure: [{ requestRange: { key: b('') } }] }), empty);
    assert.equal(await same(TXN, { compare: [{ key: b(''), target: 0, result: 0 }] }), empty);
    assert.equal(await same(TXN, { success: [{ requestTxn: { success: [{ requestDeleteRange: { key: b('') } }] } }] }), empty);
    await intact();
  });

  test('a txn over --max-txn-ops is refused, and exactly the limit is served', async () => {
    const tooMany = 'INVALID_ARGUMENT: etcdserver: too many operations in txn request';
    assert.equal(await same(TXN, { success: puts(129) }), tooMany);
    assert.equal(await same(TXN, { failure: puts(129) }), tooMany);
    assert.equal(await same(TXN, { compare: Array.from({ length: 129 }, () => ({ key: b('keep/a'), target: 0, result: 0 })) }), tooMany);
    assert.equal(await same(TXN, { success: [...puts(100), { requestTxn: { success: puts(100, 'n') } }] }), tooMany);
    assert.equal(await same(TXN, { success: puts(128) }), 'ok');
    assert.equal(await same(DELETE, { key: b('t'), rangeEnd: b('u') }), 'ok');
    await intact();
  });

  test('a txn that writes one key twice is refused with "duplicate key given in txn request"', async () => {
    const dup = 'INVALID_ARGUMENT: etcdserver: duplicate key given in txn request';
    const put = (k: string): object => ({ requestPut: { key: b(k), value: b('v') } });
    assert.equal(await same(TXN, { success: [put('d'), put('d')] }), dup);
    assert.equal(await same(TXN, { failure: [put('d'), put('e'), put('d')] }), dup);
    assert.equal(await same(TXN, { success: [put('d'), { requestDeleteRange: { key: b('a'), rangeEnd: b('z') } }] }), dup);
    assert.equal(await same(TXN, { success: [put('d'), { requestTxn: { success: [put('d')] } }] }), dup);
    // The same key in the two branches of one txn, or put twice across branches, is fine.
    assert.equal(await same(TXN, { success: [put('d')], failure: [put('d')] }), 'ok');
    assert.equal(await same(TXN, { success: [{ requestTxn: { success: [put('d')], failure: [put('d')] } }] }), 'ok');
    assert.equal(await same(TXN, { success: [put('d'), { requestRange: { key: b('d') } }, { requestRange: { key: b('d') } }] }), 'ok');
    await intact();
  });

  test('a put with an unknown lease is NOT_FOUND "requested lease not found" and writes nothing', async () => {
    const missing = 'NOT_FOUND: etcdserver: requested lease not found';
    assert.equal(await same(PUT, { key: b('keep/a'), value: b('lost'), lease: 0x1234_5678n }), missing);
    assert.equal(await same(TXN, { success: [{ requestPut: { key: b('keep/b'), value: b('lost') } }, { requestPut: { key: b('lx'), value: b('v'), lease: 0x1234_5678n } }] }), missing);
    assert.equal(await same('/etcdserverpb.Lease/LeaseRevoke', { ID: 0x1234_5678n }), missing);
    assert.equal(await same(RANGE, { key: b('lx') }), 'ok');
    await intact();
  });

  test('ranges at a future or a compacted revision are OUT_OF_RANGE', async () => {
    assert.equal(await same(RANGE, { key: b('keep/a'), revision: 1_000_000 }), 'OUT_OF_RANGE: etcdserver: mvcc: required revision is a future revision');
    assert.equal(await same(COMPACT, { revision: 1_000_000 }), 'OUT_OF_RANGE: etcdserver: mvcc: required revision is a future revision');
    for (const s of servers) {
      const rev = revisionOf(await unary(s.endpoint, PUT, { key: b('r'), value: b('1') }));
      assert.ok((await unary(s.endpoint, PUT, { key: b('r'), value: b('2') })).ok);
      assert.equal(status(await unary(s.endpoint, COMPACT, { revision: rev, physical: true })), 'ok', s.name);
      const compacted = 'OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted';
      assert.equal(status(await unary(s.endpoint, RANGE, { key: b('r'), revision: rev - 1 })), compacted, s.name);
      assert.equal(status(await unary(s.endpoint, RANGE, { key: b('r'), revision: rev - 1, serializable: true })), compacted, s.name);
      assert.equal(status(await unary(s.endpoint, TXN, { success: [{ requestRange: { key: b('r'), revision: rev - 1 } }] })), compacted, s.name);
      assert.equal(status(await unary(s.endpoint, COMPACT, { revision: rev - 1 })), compacted, s.name);
      assert.equal(status(await unary(s.endpoint, RANGE, { key: b('r'), revision: rev })), 'ok', s.name);
    }
    await intact();
  });

  test('ignore_value and ignore_lease refuse a value or lease given, and a key that does not exist', async () => {
    assert.equal(await same(PUT, { key: b('keep/a'), value: b('x'), ignoreValue: true }), 'INVALID_ARGUMENT: etcdserver: value is provided');
    assert.equal(await same(PUT, { key: b('keep/a'), lease: 5n, ignoreLease: true }), 'INVALID_ARGUMENT: etcdserver: lease is provided');
    assert.equal(await same(PUT, { key: b('nokey'), ignoreValue: true }), 'INVALID_ARGUMENT: etcdserver: key not found');
    assert.equal(await same(PUT, { key: b('nokey'), value: b('v'), ignoreLease: true }), 'INVALID_ARGUMENT: etcdserver: key not found');
    assert.equal(await same(TXN, { success: [{ requestPut: { key: b('nokey'), ignoreValue: true } }] }), 'INVALID_ARGUMENT: etcdserver: key not found');
    assert.equal(await same(RANGE, { key: b('nokey') }), 'ok');
    await intact();
  });

  test('unknown methods and services are UNIMPLEMENTED', async () => {
    for (const path of ['/etcdserverpb.KV/Nope', '/etcdserverpb.Nope/Put']) {
      const [mine, theirs] = await Promise.all(servers.map((s) => rawCall(s.endpoint, path, frame(Buffer.alloc(0)))));
      assert.equal(mine!.grpcStatus, '12');
      assert.deepEqual(mine, theirs);
    }
    await intact();
  });
});

describe('a backend over its quota', { skip }, () => {
  /** Quota for both servers: just above an empty concord backend (see the first assertion). */
  const QUOTA_BYTES = 64 * 1024;
  const VALUE = Buffer.alloc(4096, 'x');

  /**
   * etcd's documented recovery (op-guide/maintenance: "Space quota"): fill the backend with
   * history of one key until NOSPACE, check what still works, then compact, defragment and
   * disarm, and write again. Returns what etcdctl printed along the way, normalized.
   */
  async function fillAndRecover(endpoint: string, memberId: string): Promise<string[]> {
    const seen: string[] = [];
    const norm = (s: string): string => s.split(memberId).join('<member>');
    assert.ok((await unary(endpoint, PUT, { key: b('keep'), value: b('me') })).ok);
    let last: Outcome | undefined;
    for (let i = 0; i < 200; i++) {
      last = await unary(endpoint, PUT, { key: b('big'), value: VALUE });
      if (!last.ok) break;
    }
    assert.ok(last !== undefined);
    seen.push(status(last));
    seen.push(norm((await etcdctl(endpoint, ['alarm', 'list'])).stdout));
    seen.push(norm((await etcdctl(endpoint, ['alarm', 'list', '-w', 'json'])).stdout));
    // Writes, lease grants and writing txns fail; reads, deletes and read-only txns work.
    seen.push(status(await unary(endpoint, PUT, { key: b('small'), value: b('v') })));
    seen.push(status(await unary(endpoint, LEASE_GRANT, { TTL: 60 })));
    seen.push(status(await unary(endpoint, TXN, { success: [{ requestPut: { key: b('small'), value: b('v') } }] })));
    seen.push(status(await unary(endpoint, TXN, { success: [{ requestRange: { key: b('keep') } }] })));
    assert.deepEqual(await values(endpoint, 'keep'), { keep: 'me' });
    seen.push(status(await unary(endpoint, DELETE, { key: b('to-delete') })));
    seen.push(norm((await etcdctl(endpoint, ['endpoint', 'health'])).error));
    // Recover: compact away the history, defragment, disarm.
    const rev = revisionOf(await unary(endpoint, RANGE, { key: b('keep') }));
    // NB: the writes it took to fill the quota differ (bbolt and LMDB grow differently).
    seen.push((await etcdctl(endpoint, ['compaction', String(rev), '--physical'])).stdout.replace(/\d+/, '<rev>'));
    seen.push((await etcdctl(endpoint, ['defrag'])).stdout.replace(endpoint, '<endpoint>'));
    seen.push(norm((await etcdctl(endpoint, ['alarm', 'list'])).stdout));
    seen.push(norm((await etcdctl(endpoint, ['alarm', 'disarm'])).stdout));
    seen.push((await etcdctl(endpoint, ['alarm', 'list'])).stdout);
    seen.push(status(await unary(endpoint, PUT, { key: b('small'), value: b('v') })));
    assert.deepEqual(await values(endpoint, 'keep'), { keep: 'me' });
    assert.deepEqual(await values(endpoint, 'small'), { small: 'v' });
    return seen;
  }

  test('writes fail with "database space exceeded", NOSPACE is listed, and compact + defrag + disarm recovers', async () => {
    const quota = ['--quota-backend-bytes', String(QUOTA_BYTES)];
    const [concord, etcd] = await Promise.all([startConcord({ args: quota }), startEtcd({ args: quota })]);
    try {
      const idOf = async (endpoint: string): Promise<{ memberId: string; dbSize: number }> => {
        const out = (await etcdctl(endpoint, ['endpoint', 'status', '-w', 'json'])).stdout;
        return { memberId: /"member_id":(\d+)/.exec(out)![1]!, dbSize: Number(/"dbSize":(\d+)/.exec(out)![1]) };
      };
      const [c, e] = await Promise.all([idOf(concord.endpoint), idOf(etcd.endpoint)]);
      assert.ok(c.dbSize < QUOTA_BYTES, `an empty concord backend is ${c.dbSize} bytes: raise QUOTA_BYTES`);
      const [mine, theirs] = await Promise.all([fillAndRecover(concord.endpoint, c.memberId), fillAndRecover(etcd.endpoint, e.memberId)]);
      assert.deepEqual(mine, theirs);
      assert.equal(mine[0], 'RESOURCE_EXHAUSTED: etcdserver: mvcc: database space exceeded');
      assert.equal(mine[1], 'memberID:<member> alarm:NOSPACE \n');
    } finally {
      await Promise.all([concord.stop(), etcd.stop()]);
      concord.cleanup();
    }
  });
});
