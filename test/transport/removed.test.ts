// A member removed from the cluster while it was away: the peers that removed it answer its
// stream, snapshots and requests with 410 (not the 404 of a merely unknown sender), and its
// transport reports that once (onRemoved, with the peer that said so) and stops redialling.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import test from 'node:test';
import { MessageType, type Message } from '../../src/raft/index.ts';
import {
  PeerProtocol,
  RequestRefusal,
  TransportErrorCode,
  isTransportError,
  type PeerTransportOptions,
} from '../../src/transport/index.ts';
import { app, startMember, waitFor, type TestMember } from './helpers.ts';

/** A member that knows which ids were removed, and records whom its onRemoved named. */
async function member(
  id: bigint,
  removed: ReadonlySet<bigint> = new Set(),
  options: Partial<PeerTransportOptions> = {},
): Promise<TestMember & { removedBy: bigint[] }> {
  const removedBy: bigint[] = [];
  const m = await startMember(id, {
    isRemoved: (peer) => removed.has(peer),
    onRemoved: (by) => removedBy.push(by),
    ...options,
  });
  return { ...m, removedBy };
}

async function closeAll(members: readonly TestMember[]): Promise<void> {
  await Promise.all(members.map((m) => m.transport.close()));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Lines of `m`'s log about refusing something from member `from`. */
function refusals(m: TestMember, from: bigint): string[] {
  return m.logs.filter((l) => l.includes(`refused a stream from member ${from.toString(16)}`));
}

/** Limits under which a refused stream is not redialled within a test. */
const noRedial = { limits: { reconnectBaseMs: 60_000, reconnectMaxMs: 60_000 } };

function snapMessage(): Message {
  const confState = { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  return {
    type: MessageType.Snap,
    from: 1n,
    to: 2n,
    term: 3,
    snapshot: { data: new Uint8Array(0), metadata: { index: 10, term: 3, confState } },
  };
}

async function* database(): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(100).fill(7);
}

test('removed - a removed member\'s stream gets 410; it reports the peer once and stops dialling', async () => {
  const a = await member(1n);
  const b = await member(2n, new Set([1n]));
  try {
    a.transport.addPeer(2n, [b.url]); // b removed a: a is no peer of b's
    await waitFor(() => a.removedBy.length > 0, 'onRemoved');
    assert.deepEqual(a.removedBy, [2n]);
    assert.equal(a.transport.removedBy, 2n);
    assert.equal(a.transport.isActive(2n), false);
    assert.ok(a.logs.some((l) => l.includes('permanently removed from the cluster')), a.logs.join('\n'));
    assert.ok(b.logs.some((l) => l.startsWith('warn: ') && l.includes('it was removed from the cluster')));
    // Not redialled: with 10-100 ms backoff a redialling member would have been refused again.
    await sleep(300);
    assert.equal(refusals(b, 1n).length, 1, b.logs.join('\n'));
    assert.deepEqual(a.removedBy, [2n]);
    // Messages to that peer are dropped and reported, as for any peer whose stream is down.
    a.transport.send([app(1n, 2n, 1)]);
    assert.deepEqual(a.unreachable, [2n]);
    assert.ok(a.logs.some((l) => l.includes('the peer says this member was removed from the cluster')));
    assert.deepEqual([b.received, b.removedBy], [[], []]);
  } finally {
    await closeAll([a, b]);
  }
});

test('removed - an unknown sender that was not removed still gets 404 and keeps trying', async () => {
  const c = await member(3n);
  const b = await member(2n, new Set([1n]));
  try {
    c.transport.addPeer(2n, [b.url]);
    await waitFor(() => refusals(b, 3n).length >= 3, 'several refused dials');
    assert.ok(refusals(b, 3n).every((l) => l.includes('not a known peer')));
    assert.ok(c.logs.some((l) => l.includes('refused: the peer does not know this member')));
    assert.deepEqual(c.removedBy, []);
    assert.equal(c.transport.removedBy, undefined);
  } finally {
    await closeAll([c, b]);
  }
});

test('removed - the wire: 410 with a plain-text reason on streams and snapshots, member-removed on requests', async () => {
  const b = await member(2n, new Set([1n]));
  const session = http2.connect(b.url);
  try {
    const post = async (path: string, from: string): Promise<{ status: number; body: string }> => {
      const stream = session.request({
        ':method': 'POST',
        ':path': path,
        [PeerProtocol.fromHeader]: from,
        [PeerProtocol.toHeader]: '2',
        [PeerProtocol.clusterIdHeader]: 'c1',
      });
      stream.end();
      return new Promise((resolve, reject) => {
        let status = 0;
        let body = '';
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      });
    };
    for (const path of [PeerProtocol.streamPath, PeerProtocol.snapshotPath]) {
      const removed = await post(path, '1');
      assert.equal(removed.status, 410, path);
      assert.match(removed.body, /member 1 has been permanently removed from the cluster/);
      const unknown = await post(path, '3');
      assert.deepEqual(unknown, { status: 404, body: 'sender not found\n' });
    }
    const request = await post(`${PeerProtocol.requestPathPrefix}lease-renew`, '1');
    assert.equal(request.status, 410);
    assert.equal(JSON.parse(request.body).code, RequestRefusal.Removed);
    const unknown = await post(`${PeerProtocol.requestPathPrefix}lease-renew`, '3');
    assert.deepEqual([unknown.status, JSON.parse(unknown.body).code], [404, RequestRefusal.UnknownSender]);
    // A removed member that keeps redialling (etcd's does, every 100 ms) is logged at warn once.
    assert.equal(b.logs.filter((l) => l.startsWith('warn: ') && l.includes('from member 1:')).length, 1);
  } finally {
    session.destroy();
    await closeAll([b]);
  }
});

test('removed - a snapshot or a request answered 410 reports the removal too', async () => {
  const removed = new Set<bigint>();
  const b = await member(2n, removed, { onPeerRequest: async () => new Uint8Array(0) });
  // The stream is refused 404 first and (under these limits) not redialled within the test, so
  // only the snapshot and the request can tell a and c that they were removed.
  const a = await member(1n, new Set(), noRedial);
  const c = await member(3n, new Set(), noRedial);
  try {
    a.transport.addPeer(2n, [b.url]);
    c.transport.addPeer(2n, [b.url]);
    await waitFor(() => refusals(b, 1n).length === 1 && refusals(b, 3n).length === 1, 'both streams refused');
    removed.add(1n);
    removed.add(3n);

    await assert.rejects(a.transport.sendSnapshot(snapMessage(), database), (err) => {
      assert.ok(isTransportError(err, TransportErrorCode.SnapshotRefused), String(err));
      assert.deepEqual([err.status, err.remoteCode], [410, RequestRefusal.Removed]);
      assert.match(err.remoteMessage ?? '', /permanently removed/);
      return true;
    });
    assert.deepEqual(a.snapshotStatus, [[2n, false]]);
    assert.deepEqual(a.removedBy, [2n]);

    await assert.rejects(c.transport.request(2n, 'lease-renew', new Uint8Array(1), { timeoutMs: 2000 }), (err) => {
      assert.ok(isTransportError(err, TransportErrorCode.Refused), String(err));
      assert.deepEqual([err.status, err.remoteCode], [410, RequestRefusal.Removed]);
      return true;
    });
    assert.deepEqual(c.removedBy, [2n]);
    // Once per transport: later 410s are not reported again.
    await assert.rejects(c.transport.request(2n, 'lease-renew', new Uint8Array(1), { timeoutMs: 2000 }));
    assert.deepEqual(c.removedBy, [2n]);
  } finally {
    await closeAll([a, b, c]);
  }
});

test('removed - several peers saying so make one onRemoved, naming the first', async () => {
  const a = await member(1n);
  const b = await member(2n, new Set([1n]));
  const c = await member(3n, new Set([1n]));
  try {
    a.transport.addPeer(2n, [b.url]);
    a.transport.addPeer(3n, [c.url]);
    await waitFor(() => refusals(b, 1n).length === 1 && refusals(c, 1n).length === 1, 'both streams refused');
    await sleep(50);
    assert.equal(a.removedBy.length, 1);
    assert.ok(a.removedBy[0] === 2n || a.removedBy[0] === 3n);
    assert.equal(a.transport.removedBy, a.removedBy[0]);
  } finally {
    await closeAll([a, b, c]);
  }
});
