// Message streams between real transports on loopback: batches arrive in order, a peer that is
// down loses (and is reported for) what was sent meanwhile and gets messages again once back,
// and a member of another cluster is refused.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import test from 'node:test';
import { MessageType } from '../../src/raft/index.ts';
import { PeerProtocol } from '../../src/transport/index.ts';
import {
  app,
  connectAll,
  freePort,
  indexesFrom,
  startMember,
  waitAllActive,
  waitFor,
  type TestMember,
} from './helpers.ts';

async function closeAll(members: readonly TestMember[]): Promise<void> {
  await Promise.all(members.map((m) => m.transport.close()));
}

test('transport - two members exchange message batches in order', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    connectAll([a, b]);
    await waitAllActive([a, b]);
    assert.ok(a.transport.activeSince(2n) instanceof Date);
    let index = 0;
    for (let batch = 0; batch < 200; batch++) {
      const messages = Array.from({ length: 10 }, () => index++);
      a.transport.send(messages.map((i) => app(1n, 2n, i)));
      b.transport.send(messages.map((i) => app(2n, 1n, i)));
    }
    await waitFor(() => a.received.length === 2000 && b.received.length === 2000, 'all messages');
    const expected = Array.from({ length: 2000 }, (_, i) => i);
    assert.deepEqual(indexesFrom(b, 1n), expected);
    assert.deepEqual(indexesFrom(a, 2n), expected);
    assert.deepEqual(b.received[7], app(1n, 2n, 7));
    assert.deepEqual([a.unreachable, b.unreachable], [[], []]);
  } finally {
    await closeAll([a, b]);
  }
});

test('transport - three members deliver mixed-destination batches to each peer in order', async () => {
  const members = [await startMember(1n), await startMember(2n), await startMember(3n)];
  try {
    connectAll(members);
    await waitAllActive(members);
    for (let i = 0; i < 300; i++) {
      for (const from of members) {
        const batch = members.filter((m) => m !== from).map((to) => app(from.id, to.id, i));
        from.transport.send(batch);
      }
    }
    await waitFor(() => members.every((m) => m.received.length === 600), 'all messages');
    const expected = Array.from({ length: 300 }, (_, i) => i);
    for (const to of members) {
      assert.ok(to.received.every((m) => m.to === to.id));
      for (const from of members) if (from !== to) assert.deepEqual(indexesFrom(to, from.id), expected);
    }
  } finally {
    await closeAll(members);
  }
});

test('transport - a peer that starts later gets messages after reconnect; earlier ones are dropped and reported', async () => {
  const port = await freePort();
  const lateUrl = `http://127.0.0.1:${port}`;
  const a = await startMember(1n);
  const members = [a];
  try {
    a.transport.addPeer(2n, [lateUrl]);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a few failed dials
    assert.equal(a.transport.isActive(2n), false);
    assert.equal(a.transport.activeSince(2n), undefined);
    a.transport.send([app(1n, 2n, 0), app(1n, 2n, 1)]);
    a.transport.send([{ type: MessageType.Snap, from: 1n, to: 2n, term: 1 }]);
    assert.deepEqual(a.unreachable, [2n, 2n]);
    assert.deepEqual(a.snapshotStatus, [[2n, false]]);

    const b = await startMember(2n, { listenUrl: lateUrl });
    members.push(b);
    b.transport.addPeer(1n, [a.url]);
    await waitAllActive([a, b]);
    a.transport.send([app(1n, 2n, 2), app(1n, 2n, 3)]);
    await waitFor(() => b.received.length === 2, 'messages after reconnect');
    assert.deepEqual(indexesFrom(b, 1n), [2, 3]);

    // The peer goes away again: the stream notices and messages are dropped, not buffered.
    await b.transport.close();
    await waitFor(() => !a.transport.isActive(2n), 'the stream to notice the peer is gone');
    a.transport.send([app(1n, 2n, 4)]);
    assert.deepEqual(a.unreachable, [2n, 2n, 2n]);
    assert.ok(a.logs.some((l) => /peer 2 became inactive/.test(l)), a.logs.join('\n'));
  } finally {
    await closeAll(members);
  }
});

test('transport - a member of another cluster is refused with cluster ID mismatch', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n, { clusterId: 0xbadn });
  try {
    connectAll([a, b]);
    await waitFor(
      () => a.logs.some((l) => l.includes('cluster ID mismatch')) && b.logs.some((l) => l.includes('cluster ID mismatch')),
      'both sides to log the mismatch',
    );
    assert.equal(a.transport.isActive(2n), false);
    assert.equal(b.transport.isActive(1n), false);
    a.transport.send([app(1n, 2n, 0)]);
    assert.deepEqual(a.unreachable, [2n]);
    assert.ok(b.logs.some((l) => /refused a stream from member 1: cluster ID mismatch \(local bad, remote c1\)/.test(l)));

    // The refusal on the wire: 412 with etcd's header naming the receiver's cluster.
    const session = http2.connect(b.url);
    const stream = session.request({
      ':method': 'POST',
      ':path': PeerProtocol.streamPath,
      [PeerProtocol.fromHeader]: '1',
      [PeerProtocol.toHeader]: '2',
      [PeerProtocol.clusterIdHeader]: 'c1',
    });
    const [headers] = (await new Promise((resolve) => stream.once('response', (h) => resolve([h])))) as [http2.IncomingHttpHeaders];
    assert.equal(headers[':status'], 412);
    assert.equal(headers[PeerProtocol.clusterIdHeader], 'bad');
    session.destroy();
    assert.equal(b.received.length, 0);
  } finally {
    await closeAll([a, b]);
  }
});

test('transport - a stream from an unknown member is refused until it is added as a peer', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    a.transport.addPeer(2n, [b.url]);
    await waitFor(() => b.logs.some((l) => l.includes('not a known peer')), 'the refusal');
    assert.equal(a.transport.isActive(2n), false);
    b.transport.addPeer(1n, [a.url]);
    await waitAllActive([a, b]);
    b.transport.removePeer(1n);
    assert.equal(b.transport.isActive(1n), false);
    await waitFor(() => !a.transport.isActive(2n), 'the removed peer to cut the incoming stream');
  } finally {
    await closeAll([a, b]);
  }
});

test('transport - close is idempotent and send after close does nothing', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  connectAll([a, b]);
  await waitAllActive([a, b]);
  const first = a.transport.close();
  assert.equal(a.transport.close(), first);
  await first;
  a.transport.send([app(1n, 2n, 0)]);
  assert.equal(a.transport.isActive(2n), false);
  await b.transport.close();
});
