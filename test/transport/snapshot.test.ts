// Snapshots between real transports: a few MiB of database stream in checksummed chunks and
// arrive intact (with the message stream still flowing), and a chunk corrupted in flight is
// detected by the receiver, which refuses the snapshot; both outcomes reach onSnapshotStatus.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import test from 'node:test';
import { MessageType, type Message } from '../../src/raft/index.ts';
import { TransportErrorCode, isTransportError } from '../../src/transport/index.ts';
import { app, connectAll, startMember, waitAllActive, waitFor } from './helpers.ts';

const DB_BYTES = 5 * 1024 * 1024 + 123;

function snapMessage(): Message {
  return {
    type: MessageType.Snap,
    from: 1n,
    to: 2n,
    term: 7,
    snapshot: {
      data: new TextEncoder().encode('{"members":[1,2]}'),
      metadata: {
        index: 1234,
        term: 7,
        confState: { voters: [1n, 2n], learners: [3n], votersOutgoing: [], learnersNext: [], autoLeave: false },
      },
    },
  };
}

/** The database in pieces of uneven sizes, as a backend reader would yield it. */
async function* database(db: Buffer): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < db.length; i++) {
    const n = 1000 + ((i * 7919) % 200_000);
    yield db.subarray(at, at + n);
    at += n;
  }
}

/** A receiving member that hashes what its onSnapshot reads. */
interface Received {
  msg?: Message;
  sha256?: string;
  bytes: number;
  error?: unknown;
}

function receivingSnapshot(received: Received) {
  return async (msg: Message, body: AsyncIterable<Uint8Array>): Promise<void> => {
    received.msg = msg;
    const hash = createHash('sha256');
    try {
      for await (const chunk of body) {
        hash.update(chunk);
        received.bytes += chunk.length;
      }
    } catch (err) {
      received.error = err;
      throw err;
    }
    received.sha256 = hash.digest('hex');
  };
}

test('transport - a snapshot of a few MiB streams with its checksum verified', async () => {
  const db = randomBytes(DB_BYTES);
  const received: Received = { bytes: 0 };
  const a = await startMember(1n);
  const b = await startMember(2n, { onSnapshot: receivingSnapshot(received) });
  try {
    connectAll([a, b]);
    await waitAllActive([a, b]);
    const sending = a.transport.sendSnapshot(snapMessage(), () => database(db));
    for (let i = 0; i < 50; i++) a.transport.send([app(1n, 2n, i)]); // the stream is not held up
    await sending;
    assert.deepEqual(received.msg, snapMessage());
    assert.equal(received.bytes, DB_BYTES);
    assert.equal(received.sha256, createHash('sha256').update(db).digest('hex'));
    assert.deepEqual(a.snapshotStatus, [[2n, true]]);
    await waitFor(() => b.received.length === 50, 'the stream messages');
    assert.ok(b.logs.some((l) => l.includes('received snapshot [index 1234, term 7] from member 1')));
  } finally {
    await Promise.all([a.transport.close(), b.transport.close()]);
  }
});

test('transport - a corrupted snapshot chunk is detected and the snapshot refused', async () => {
  const db = randomBytes(DB_BYTES);
  const received: Received = { bytes: 0 };
  const a = await startMember(1n, {
    hooks: {
      tamperSnapshotChunk: (index, chunk) => {
        if (index !== 3) return chunk;
        const copy = Uint8Array.from(chunk);
        copy[100] = copy[100]! ^ 0x40;
        return copy;
      },
    },
  });
  const b = await startMember(2n, { onSnapshot: receivingSnapshot(received) });
  try {
    connectAll([a, b]);
    await waitAllActive([a, b]);
    await assert.rejects(
      a.transport.sendSnapshot(snapMessage(), database(db)),
      (err) => isTransportError(err, TransportErrorCode.SnapshotRefused) && /chunk 3 .* crc32c mismatch/.test(err.message),
    );
    assert.ok(isTransportError(received.error, TransportErrorCode.SnapshotCorrupt));
    assert.equal(received.bytes, 3 * a.transport.limits.snapshotChunkBytes); // nothing after the bad chunk
    assert.equal(received.sha256, undefined);
    assert.deepEqual(a.snapshotStatus, [[2n, false]]);
    // The message stream is unaffected.
    a.transport.send([app(1n, 2n, 1)]);
    await waitFor(() => b.received.length === 1, 'a message after the failed snapshot');
  } finally {
    await Promise.all([a.transport.close(), b.transport.close()]);
  }
});

test('transport - a snapshot to an unknown peer fails and is reported', async () => {
  const a = await startMember(1n);
  try {
    await assert.rejects(
      a.transport.sendSnapshot(snapMessage(), database(Buffer.alloc(10))),
      (err) => isTransportError(err, TransportErrorCode.UnknownPeer),
    );
    assert.deepEqual(a.snapshotStatus, [[2n, false]]);
  } finally {
    await a.transport.close();
  }
});
