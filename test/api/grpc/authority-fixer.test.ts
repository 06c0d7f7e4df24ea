// The h2c authority fixer on bytes: URLs in :authority become host:port in every header block
// (decoded against the client's dynamic table, re-encoded without touching the server's), other
// frames pass unchanged, the first SETTINGS ACK is dropped, and chunk boundaries do not matter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthorityFixer } from '../../../src/api/grpc/server/authority-fixer.ts';
import { FrameFlag, FrameType } from '../../../src/api/grpc/server/h2-frames.ts';
import { authorityWithoutScheme, encodeHeaderBlock } from '../../../src/api/grpc/server/hpack-block.ts';
import { ClientEncoder, decodeAlone, frame, frames, headerBlocks } from './h2-wire.ts';

const { HEADERS, CONTINUATION, DATA, SETTINGS, PING, WINDOW_UPDATE } = FrameType;
const { END_HEADERS, END_STREAM, PADDED, PRIORITY, ACK } = FrameFlag;

const URL = 'http://127.0.0.1:2379';
const request = (path: string, authority = URL): [string, string][] => [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', path],
  [':authority', authority],
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
];
const fixedAuthority = (fields: [string, string][]): [string, string][] =>
  fields.map(([n, v]) => [n, n === ':authority' ? '127.0.0.1:2379' : v]);
const clientSettings = frame(SETTINGS, 0, 0, Buffer.from([0, 4, 0, 0, 0xff, 0xff]));
const settingsAck = frame(SETTINGS, ACK, 0);

/** A fixer on a connection where the acceptor sent SETTINGS of its own. */
function answeringFixer(): AuthorityFixer {
  const fixer = new AuthorityFixer();
  fixer.expectSettingsAck();
  return fixer;
}

function pushAll(fixer: AuthorityFixer, chunks: readonly Buffer[]): Buffer {
  return Buffer.concat(chunks.flatMap((c) => fixer.push(c)));
}

/** A tiny seeded generator, so a failing split replays. */
function splits(bytes: Buffer, seed: number): Buffer[] {
  let s = seed;
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (s % 23);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

test('authority fixer - a URL in :authority becomes host:port in every block, dynamic table references too', () => {
  const client = new ClientEncoder();
  const blocks = [
    client.encode(request('/etcdserverpb.Maintenance/Status')),
    client.encode(request('/etcdserverpb.Maintenance/Status')),
    client.encode([...request('/etcdserverpb.Maintenance/Hash'), ['authorization', 'secret']]),
  ];
  // The second block refers to the first one's entries: 0xbe is dynamic index 62, the newest.
  assert.ok(blocks[1]!.length < 8 && blocks[1]!.includes(0xbe), blocks[1]!.toString('hex'));
  const body = Buffer.from([0, 0, 0, 0, 0]);
  const input = [
    clientSettings,
    frame(HEADERS, END_HEADERS, 1, blocks[0]),
    frame(DATA, END_STREAM, 1, body),
    settingsAck,
    frame(HEADERS, END_HEADERS, 3, blocks[1]),
    frame(WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 1, 0])),
    frame(DATA, END_STREAM, 3, body),
    frame(HEADERS, END_HEADERS | END_STREAM, 5, blocks[2]),
  ];
  const fixer = answeringFixer();
  const out = frames(pushAll(fixer, input));
  assert.equal(fixer.mode, 'rewriting');
  assert.deepEqual(
    out.map((f) => [f.type, f.flags, f.streamId]),
    [[SETTINGS, 0, 0], [HEADERS, END_HEADERS, 1], [DATA, END_STREAM, 1], [HEADERS, END_HEADERS, 3],
      [WINDOW_UPDATE, 0, 0], [DATA, END_STREAM, 3], [HEADERS, END_HEADERS | END_STREAM, 5]],
    'the first SETTINGS ACK is dropped, every other frame keeps its place',
  );
  assert.deepEqual(out[2]!.payload, body);
  const sent = headerBlocks(out).map((b) => decodeAlone(b.block));
  assert.deepEqual(sent, [
    fixedAuthority(request('/etcdserverpb.Maintenance/Status')),
    fixedAuthority(request('/etcdserverpb.Maintenance/Status')),
    [...fixedAuthority(request('/etcdserverpb.Maintenance/Hash')), ['authorization', 'secret']],
  ]);
});

test('authority fixer - the header block grpc-go sends for etcdctl endpoint status is fixed', () => {
  // Captured from etcdctl 3.4.23 (grpc-go 1.33) dialing http://127.0.0.1:45999: Huffman-coded
  // strings, :authority as a literal with incremental indexing.
  const block = Buffer.from(
    '8386459760a924882d9dcb6571afa066a925a87510ac6e48d36a3f41909d29aee30c044eae05c0b86e34dbefbf5f8b1d75d06' +
      '20d263d4c4d65647a8b9acac8b4c7602bb2caecff40027465864d833505b11f40899acac8b24d494f6a7f8669f79908816f408d2' +
      '5062d495875996ee5b1063d5f03332e34',
    'hex',
  );
  const fixer = new AuthorityFixer();
  const out = pushAll(fixer, [clientSettings, settingsAck, frame(HEADERS, END_HEADERS, 1, block)]);
  assert.deepEqual(decodeAlone(headerBlocks(frames(out))[0]!.block), [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', '/etcdserverpb.Maintenance/Status'],
    [':authority', '127.0.0.1:45999'],
    ['content-type', 'application/grpc'],
    ['user-agent', 'grpc-go/1.33.3'],
    ['te', 'trailers'],
    ['grpc-timeout', '4983120u'],
    ['client-api-version', '3.4'],
  ]);
});

test('authority fixer - blocks in CONTINUATION frames are joined, and split again when large', () => {
  const client = new ClientEncoder();
  const big = 'v'.repeat(40_000); // larger than the dynamic table: never indexed
  const first = client.encode([...request('/a'), ['x-big', big]], { huffman: false });
  const second = client.encode([...request('/b'), ['x-big', big]]);
  const input = [clientSettings, ...inFrames(first, 1, [10, 16_000, 32_000]), ...inFrames(second, 3, [3, 16_000, 32_000])];
  const out = frames(pushAll(new AuthorityFixer(), input));
  for (const f of out) assert.ok(f.payload.length <= 16_384, `a frame of ${f.payload.length} bytes`);
  const blocks = headerBlocks(out);
  assert.deepEqual(blocks.map((b) => [b.streamId, b.frameCount]), [[1, 3], [3, 3]]);
  assert.deepEqual(decodeAlone(blocks[0]!.block), [...fixedAuthority(request('/a')), ['x-big', big]]);
  assert.deepEqual(decodeAlone(blocks[1]!.block), [...fixedAuthority(request('/b')), ['x-big', big]]);
});

/** A header block as HEADERS and CONTINUATION frames, cut at `cuts`. */
function inFrames(block: Buffer, streamId: number, cuts: number[]): Buffer[] {
  const bounds = [0, ...cuts, block.length];
  return bounds.slice(1).map((end, i) => {
    const type = i === 0 ? HEADERS : CONTINUATION;
    return frame(type, end === block.length ? END_HEADERS : 0, streamId, block.subarray(bounds[i], end));
  });
}

test('authority fixer - where TCP cuts the bytes does not change what comes out', () => {
  const client = new ClientEncoder();
  const one = client.encode(request('/one'));
  const two = client.encode(request('/two'));
  const input = Buffer.concat([
    clientSettings,
    frame(HEADERS, END_HEADERS, 1, one),
    frame(DATA, 0, 1, Buffer.alloc(3000, 7)),
    settingsAck,
    frame(HEADERS, 0, 3, two.subarray(0, 2)),
    frame(CONTINUATION, 0, 3, Buffer.alloc(0)),
    frame(CONTINUATION, END_HEADERS, 3, two.subarray(2)),
    frame(DATA, END_STREAM, 1, Buffer.alloc(20, 1)),
  ]);
  const whole = Buffer.concat(answeringFixer().push(input));
  assert.deepEqual(
    headerBlocks(frames(whole)).map((b) => decodeAlone(b.block)),
    [fixedAuthority(request('/one')), fixedAuthority(request('/two'))],
  );
  for (const seed of [1, 2, 3, 42, 1234]) {
    assert.deepEqual(pushAll(answeringFixer(), splits(input, seed)), whole, `seed ${seed}`);
  }
  const byteByByte = [...input].map((b) => Buffer.from([b]));
  assert.deepEqual(pushAll(answeringFixer(), byteByByte), whole);
  assert.equal(frames(whole).filter((f) => f.type === SETTINGS).length, 1);
});

test('authority fixer - padding is dropped, priority fields and END_STREAM are kept', () => {
  const block = new ClientEncoder().encode(request('/p'));
  const priority = Buffer.from([0x80, 0, 0, 3, 200]); // exclusive, depends on stream 3, weight 201
  const payload = Buffer.concat([Buffer.from([7]), priority, block, Buffer.alloc(7)]);
  const input = frame(HEADERS, END_HEADERS | END_STREAM | PADDED | PRIORITY, 5, payload);
  const [sent] = headerBlocks(frames(pushAll(new AuthorityFixer(), [clientSettings, input])));
  assert.equal(sent!.flags, END_HEADERS | END_STREAM | PRIORITY);
  assert.deepEqual(sent!.priority, priority);
  assert.deepEqual(decodeAlone(sent!.block), fixedAuthority(request('/p')));
});

test('authority fixer - a connection whose first block has no URL passes as it is, less the first ACK', () => {
  const client = new ClientEncoder();
  const before = Buffer.concat([clientSettings, frame(HEADERS, END_HEADERS, 1, client.encode(request('/x', '127.0.0.1:2379')))]);
  const after = Buffer.concat([
    frame(PING, 0, 0, Buffer.alloc(8)),
    settingsAck, // the client's ACK of the inner server's own SETTINGS: it is the inner server's
    frame(HEADERS, END_HEADERS, 3, client.encode(request('/y', '127.0.0.1:2379'))),
  ]);
  const fixer = answeringFixer();
  assert.deepEqual(Buffer.concat(fixer.push(before)), before);
  assert.equal(fixer.mode, 'passing');
  assert.equal(fixer.transparent, false, 'the ACK of our SETTINGS is still to come');
  assert.deepEqual(fixer.push(settingsAck), []);
  assert.equal(fixer.transparent, true);
  const chunks = fixer.push(after);
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0], after, 'the very same buffer');
});

test('authority fixer - with no SETTINGS of the acceptor to answer, ACKs pass and a plain block ends the work', () => {
  const client = new ClientEncoder();
  const fixer = new AuthorityFixer();
  const input = Buffer.concat([clientSettings, settingsAck, frame(HEADERS, END_HEADERS, 1, client.encode(request('/x', 'h:1')))]);
  assert.deepEqual(Buffer.concat(fixer.push(input)), input);
  assert.equal(fixer.transparent, true);
  const url = new AuthorityFixer();
  const out = frames(pushAll(url, [clientSettings, frame(HEADERS, END_HEADERS, 1, client.encode(request('/y'))), settingsAck]));
  assert.deepEqual(out.map((f) => [f.type, f.flags]), [[SETTINGS, 0], [HEADERS, END_HEADERS], [SETTINGS, ACK]]);
});

test('authority fixer - it steps aside on what it cannot follow, and the inner server judges', () => {
  const block = new ClientEncoder().encode(request('/z'));
  // A DATA frame inside a header block (RFC 9113 §6.10 forbids it).
  const interleaved = Buffer.concat([
    clientSettings,
    frame(HEADERS, 0, 1, block.subarray(0, 4)),
    frame(DATA, 0, 1, Buffer.alloc(4)),
    frame(CONTINUATION, END_HEADERS, 1, block.subarray(4)),
  ]);
  const a = new AuthorityFixer();
  assert.deepEqual(Buffer.concat(a.push(interleaved)), interleaved);
  assert.equal(a.mode, 'passing');
  // An index the tables do not have (HPACK index 0 is invalid).
  const malformed = Buffer.concat([clientSettings, frame(HEADERS, END_HEADERS, 1, Buffer.from([0x80]))]);
  const b = new AuthorityFixer();
  assert.deepEqual(Buffer.concat(b.push(malformed)), malformed);
  assert.equal(b.mode, 'passing');
  // A header frame larger than any the inner server accepts.
  const huge = Buffer.concat([clientSettings, frame(HEADERS, END_HEADERS, 1, Buffer.alloc(16_385))]);
  const c = new AuthorityFixer();
  assert.deepEqual(Buffer.concat(c.push(huge)), huge);
});

test('authority fixer - a PING or a second SETTINGS before the first block asks for the server', () => {
  const ping = new AuthorityFixer();
  ping.push(clientSettings);
  assert.equal(ping.awaitsServer, false);
  ping.push(frame(PING, 0, 0, Buffer.alloc(8)));
  assert.equal(ping.awaitsServer, true);
  const settings = new AuthorityFixer();
  settings.expectSettingsAck();
  settings.push(Buffer.concat([clientSettings, settingsAck, clientSettings]));
  assert.equal(settings.awaitsServer, true);
});

test('authority fixer - authorityWithoutScheme keeps what stands between the scheme and the path', () => {
  assert.equal(authorityWithoutScheme('http://127.0.0.1:2379'), '127.0.0.1:2379');
  assert.equal(authorityWithoutScheme('https://etcd.example:2379/'), 'etcd.example:2379');
  assert.equal(authorityWithoutScheme('http://[::1]:2379?x#y'), '[::1]:2379');
  assert.equal(authorityWithoutScheme('http://user@h:1'), 'user@h:1');
  assert.equal(authorityWithoutScheme('127.0.0.1:2379'), undefined);
  assert.equal(authorityWithoutScheme('localhost'), undefined);
});

test('authority fixer - blocks it encodes use the static table only, and keep sensitive fields so', () => {
  const long = 'x'.repeat(300);
  const block = encodeHeaderBlock([
    { name: ':method', value: 'POST', neverIndex: false },
    { name: ':authority', value: 'h:1', neverIndex: false },
    { name: 'x-custom', value: long, neverIndex: false },
    { name: 'authorization', value: 'secret', neverIndex: true },
  ]);
  const expected = Buffer.concat([
    Buffer.from([0x83]), // indexed: static 3, ":method: POST"
    Buffer.from([0x01, 3]), Buffer.from('h:1'), // without indexing, static name 1
    Buffer.from([0x00, 8]), Buffer.from('x-custom'), Buffer.from([0x7f, 300 - 127 - 128 + 0x80, 1]), Buffer.from(long),
    Buffer.from([0x1f, 23 - 15, 6]), Buffer.from('secret'), // never indexed, static name 23
  ]);
  assert.deepEqual(block, expected);
  assert.deepEqual(decodeAlone(block), [[':method', 'POST'], [':authority', 'h:1'], ['x-custom', long], ['authorization', 'secret']]);
});
