// A stuck peer (it accepts the stream and stops reading) must not make the sender grow memory
// without bound: once the per-peer queue caps are reached, sends are dropped and reported, and
// when the peer reads again, what was accepted arrives in order and sending resumes.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import test from 'node:test';
import { MessageType, type Message } from '../../src/raft/index.ts';
import { FrameDecoder } from '../../src/transport/index.ts';
import { app, startMember, waitFor } from './helpers.ts';

/** A peer that answers the stream with 200, then reads only when told to. */
async function stuckPeer(): Promise<{ url: string; received: Message[]; resume(): void; close(): Promise<void> }> {
  const received: Message[] = [];
  const streams: http2.ServerHttp2Stream[] = [];
  const server = http2.createServer();
  server.on('stream', (stream) => {
    streams.push(stream);
    stream.respond({ ':status': 200 });
    stream.pause();
    const decoder = new FrameDecoder(1 << 26);
    stream.on('data', (chunk: Buffer) => received.push(...decoder.push(chunk)));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => sessions.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    resume: () => streams.forEach((s) => s.resume()),
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('transport - a stuck peer does not grow memory without bound: queue caps drop and report', async () => {
  const peer = await stuckPeer();
  const queueBytes = 256 * 1024;
  const a = await startMember(1n, {
    limits: { reconnectBaseMs: 10, reconnectMaxMs: 100, peerQueueBytesMax: queueBytes, peerQueueMessagesMax: 100 },
  });
  try {
    a.transport.addPeer(2n, [peer.url]);
    await waitFor(() => a.transport.isActive(2n), 'the stream to the stuck peer');
    const accepted: number[] = [];
    const messageBytes = 8 * 1024;
    const sends = 2000; // 16 MiB offered
    for (let i = 0; i < sends; i++) {
      const before = a.unreachable.length;
      a.transport.send([app(1n, 2n, i, messageBytes)]);
      if (a.unreachable.length === before) accepted.push(i);
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve)); // let writes flush
    }
    // What was accepted is bounded by the queue caps plus HTTP/2 flow-control windows (64 KiB per
    // stream by default) and socket buffers: far below what was offered.
    const acceptedBytes = accepted.length * messageBytes;
    assert.ok(acceptedBytes < queueBytes + 1024 * 1024, `accepted ${acceptedBytes} bytes while the peer was stuck`);
    assert.ok(a.unreachable.length >= sends - accepted.length);
    assert.ok(a.unreachable.every((id) => id === 2n));
    assert.ok(a.logs.some((l) => l.includes('send queue is full')), a.logs.join('\n'));
    const snapshotStatusBefore = a.snapshotStatus.length;
    a.transport.send([app(1n, 2n, sends, messageBytes), { type: MessageType.Snap, from: 1n, to: 2n, term: 1 }]);
    assert.deepEqual(a.snapshotStatus.slice(snapshotStatusBefore), [[2n, false]]);

    // The peer reads again: everything accepted arrives, in order, and new sends go through.
    peer.resume();
    await waitFor(() => peer.received.length === accepted.length, 'the accepted messages');
    assert.deepEqual(peer.received.map((m) => m.index), accepted);
    const dropsBefore = a.unreachable.length;
    a.transport.send([app(1n, 2n, sends + 1, messageBytes)]);
    assert.equal(a.unreachable.length, dropsBefore);
    await waitFor(() => peer.received.length === accepted.length + 1, 'a message after the peer recovered');
  } finally {
    await a.transport.close();
    await peer.close();
  }
});
