// Property tests of the peer wire codec: every message decodes to itself, frame streams decode the
// same however the bytes are split, and malformed input fails with a TransportError, never a crash
// or an absurd allocation. Also the snapshot body: chunks verify, a flipped byte is caught.
import assert from 'node:assert/strict';
import test from 'node:test';
import fc from 'fast-check';
import { EntryType, MessageType, type Message } from '../../src/raft/index.ts';
import {
  FrameDecoder,
  TransportErrorCode,
  decodeMessage,
  encodeFrames,
  encodeMessage,
  isTransportError,
  messageBytes,
} from '../../src/transport/index.ts';
import { SnapshotReader, encodeSnapshotBody } from '../../src/transport/snapshot-body.ts';

const PLAIN = { noNullPrototype: true };
const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const id = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const ids = fc.array(id, { maxLength: 5 });
const entryArb = fc.record(
  {
    term: u53,
    index: u53,
    type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
    data: fc.uint8Array({ maxLength: 200 }),
  },
  PLAIN,
);
const snapshotArb = fc.record(
  {
    data: fc.uint8Array({ maxLength: 300 }),
    metadata: fc.record(
      {
        index: u53,
        term: u53,
        confState: fc.record(
          { voters: ids, learners: ids, votersOutgoing: ids, learnersNext: ids, autoLeave: fc.boolean() },
          PLAIN,
        ),
      },
      PLAIN,
    ),
  },
  PLAIN,
);
const messageArb: fc.Arbitrary<Message> = fc.record(
  {
    type: fc.constantFrom(...Object.values(MessageType)),
    to: id,
    from: id,
    term: u53,
    logTerm: u53,
    index: u53,
    entries: fc.array(entryArb, { maxLength: 4 }),
    commit: u53,
    snapshot: snapshotArb,
    reject: fc.boolean(),
    rejectHint: u53,
    context: fc.uint8Array({ maxLength: 40 }),
  },
  { requiredKeys: ['type', 'to', 'from', 'term'], noNullPrototype: true },
);

test('transport codec - every message decodes to what was encoded', () => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const bytes = encodeMessage(m);
      assert.equal(bytes.length, messageBytes(m));
      assert.deepEqual(decodeMessage(bytes), m);
    }),
    { numRuns: 500 },
  );
});

test('transport codec - a frame stream decodes the same however it is split into chunks', () => {
  fc.assert(
    fc.property(fc.array(messageArb, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (messages, cuts) => {
      const frames = Buffer.from(encodeFrames(messages));
      const points = [...new Set(cuts.map((c) => c % (frames.length + 1)))].sort((a, b) => a - b);
      const decoder = new FrameDecoder(1 << 20);
      const out: Message[] = [];
      let at = 0;
      for (const p of [...points, frames.length]) {
        out.push(...decoder.push(frames.subarray(at, p)));
        at = p;
      }
      assert.deepEqual(out, messages);
      assert.equal(decoder.pendingBytes, 0);
    }),
    { numRuns: 300 },
  );
});

test('transport codec - any truncation of a message is refused with a clear error', () => {
  fc.assert(
    fc.property(messageArb, fc.nat(), (m, cut) => {
      const bytes = encodeMessage(m);
      const short = bytes.subarray(0, cut % bytes.length);
      assert.throws(() => decodeMessage(short), (err) => isTransportError(err, TransportErrorCode.Malformed));
    }),
  );
});

test('transport codec - random bytes decode or fail with a TransportError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodeMessage(bytes);
      } catch (err) {
        assert.ok(isTransportError(err), String(err));
      }
    }),
    { numRuns: 2000 },
  );
});

test('transport codec - absurd counts and lengths are refused before anything is allocated', () => {
  const m: Message = { type: MessageType.App, to: 2n, from: 1n, term: 3, entries: [] };
  const bytes = encodeMessage(m);
  // The entry count is the last 4 bytes: claim four billion entries.
  bytes.set([0xff, 0xff, 0xff, 0xff], bytes.length - 4);
  assert.throws(() => decodeMessage(bytes), /4294967295 entries needs .* bytes/);
  const frame = new Uint8Array([0xff, 0xff, 0xff, 0xf0]);
  assert.throws(
    () => new FrameDecoder(64 << 20).push(frame),
    (err) => isTransportError(err, TransportErrorCode.TooLarge) && /exceeds the limit/.test(err.message),
  );
});

test('transport codec - unknown versions, kinds and flags are refused', () => {
  const bytes = encodeMessage({ type: MessageType.Heartbeat, to: 2n, from: 1n, term: 1, commit: 4 });
  const variants: Array<[number, number, RegExp]> = [
    [0, 9, /unknown version 9/],
    [1, 200, /unknown message type code 200/],
    [2, 0xfe, /bad flags/],
  ];
  for (const [at, value, pattern] of variants) {
    const copy = bytes.slice();
    copy[at] = value;
    assert.throws(() => decodeMessage(copy), pattern);
  }
  assert.throws(() => decodeMessage(Uint8Array.of(...bytes, 0)), /1 trailing bytes/);
});

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

const snapMsg: Message = {
  type: MessageType.Snap,
  to: 2n,
  from: 1n,
  term: 5,
  snapshot: {
    data: Uint8Array.of(1, 2, 3),
    metadata: { index: 10, term: 5, confState: { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
  },
};

test('transport snapshot body - chunks regrouped from any piece size verify and rebuild the database', async () => {
  const db = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);
  for (const pieceBytes of [1, 333, 4096, 20_000]) {
    const wire = encodeSnapshotBody(snapMsg, pieces(db, pieceBytes), { chunkBytes: 1024 });
    const reader = new SnapshotReader(pieces(await collect(wire), 777), { frameBytesMax: 1 << 20, snapshotChunkBytes: 1024 });
    assert.deepEqual(await reader.message(), snapMsg);
    assert.deepEqual(new Uint8Array(await collect(reader.body())), db);
    assert.equal(reader.complete, true);
  }
});

test('transport snapshot body - a flipped byte or a missing tail is detected', async () => {
  const db = new Uint8Array(5000).fill(7);
  const limits = { frameBytesMax: 1 << 20, snapshotChunkBytes: 1024 };
  const tampered = encodeSnapshotBody(snapMsg, pieces(db, 5000), {
    chunkBytes: 1024,
    tamper: (index, chunk) => (index === 2 ? chunk.map((b, i) => (i === 10 ? b ^ 1 : b)) : chunk),
  });
  const reader = new SnapshotReader(pieces(await collect(tampered), 500), limits);
  await reader.message();
  await assert.rejects(collect(reader.body()), /snapshot chunk 2 at byte 2048: crc32c mismatch/);
  const whole = await collect(encodeSnapshotBody(snapMsg, pieces(db, 5000), { chunkBytes: 1024 }));
  const cut = new SnapshotReader(pieces(whole.subarray(0, whole.length - 20), 500), limits);
  await cut.message();
  await assert.rejects(collect(cut.body()), (err) => isTransportError(err, TransportErrorCode.SnapshotTruncated));
});
