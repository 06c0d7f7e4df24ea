// Plaintext HTTP/2 clients that put a URL in :authority (grpc-go does, dialing "http://host:port")
// are served: node's http2 refuses such a stream, so the server fixes those connections on their
// way in, and hands every other connection to node's http2 natively once its first header block
// shows it needs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptH2c } from '../../../src/api/grpc/server/h2c-connection.ts';
import type { GrpcServer } from '../../../src/api/grpc/server/index.ts';
import { CLIENT_PREFACE, FrameFlag, FrameType } from '../../../src/api/grpc/server/h2-frames.ts';
import { codec, services } from '../../../src/proto/index.ts';
import { startServer } from './helpers.ts';
import { ClientEncoder, frame, frames } from './h2-wire.ts';
import type { Frame } from './h2-wire.ts';

function register(server: GrpcServer): void {
  server.addService(services['etcdserverpb.KV'], { Put: () => ({ header: { revision: 7 } }) });
  server.addHttpHandler('/authority', (req, res) => {
    const authority = 'authority' in req ? req.authority : req.headers.host;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(authority ?? '');
  });
}

interface Answer {
  status: string;
  grpcStatus: string | undefined;
  body: Buffer;
}

/** One request on `session`; resolves with the status, grpc-status and body. */
function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers);
    const chunks: Buffer[] = [];
    let status = '';
    let grpcStatus: string | undefined;
    req.on('response', (h) => (status = String(h[':status'])));
    req.on('trailers', (t) => (grpcStatus = t['grpc-status'] as string | undefined));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, grpcStatus, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(body);
  });
}

const getAuthority = (authority: string): http2.OutgoingHttpHeaders => ({
  ':method': 'GET',
  ':path': '/authority',
  ':authority': authority,
});

test('h2c - requests whose :authority is a URL are served, and handlers see host:port', async () => {
  const { server, port } = await startServer(register);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const url = `http://127.0.0.1:${port}`;
    // node's client indexes :authority: the later requests refer to the client's dynamic table.
    for (let i = 0; i < 3; i++) {
      const got = await request(session, getAuthority(url));
      assert.equal(got.status, '200');
      assert.equal(got.body.toString(), `127.0.0.1:${port}`);
    }
    const put = codec('etcdserverpb.PutRequest').encodeFrame({ key: 'k', value: 'v' });
    const grpc = await request(
      session,
      { ':method': 'POST', ':path': services['etcdserverpb.KV'].Put.path, ':authority': url, 'content-type': 'application/grpc', te: 'trailers' },
      Buffer.from(put),
    );
    assert.equal(grpc.grpcStatus, '0');
    assert.ok(grpc.body.length > 5);
    // Many streams at once, each with a large header, so blocks are big and tables churn.
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => request(session, { ...getAuthority(url), 'x-pad': `${i}-`.repeat(400) })),
    );
    assert.ok(many.every((a) => a.status === '200' && a.body.toString() === `127.0.0.1:${port}`));
  } finally {
    session.close();
    await server.close();
  }
});

/** A listener that hands its connections to acceptH2c, and what acceptH2c decided. */
async function acceptor(holdMs?: number): Promise<{ port: number; handed: string[]; close(): Promise<void> }> {
  const inner = http2.createServer();
  inner.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(String(headers[':authority']));
  });
  const handed: string[] = [];
  const closed = new AbortController();
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('readable', () => {
      const head = socket.read() as Buffer;
      acceptH2c(socket, head, {
        onNative: (s) => {
          handed.push(s instanceof net.Socket ? 'native' : 'not a socket');
          inner.emit('connection', s);
        },
        onFixing: (stream: Duplex) => {
          handed.push('fixing');
          inner.emit('connection', stream);
        },
        signal: closed.signal,
        ...(holdMs === undefined ? {} : { holdMs }),
      });
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    port: (listener.address() as net.AddressInfo).port,
    handed,
    close: async () => {
      closed.abort();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => listener.close(resolve));
    },
  };
}

test('h2c - a connection is handed over natively unless its first header block has a URL', async () => {
  const a = await acceptor();
  const plain = http2.connect(`http://127.0.0.1:${a.port}`);
  const withUrl = http2.connect(`http://127.0.0.1:${a.port}`);
  try {
    const p = await request(plain, getAuthority(`127.0.0.1:${a.port}`));
    assert.equal(p.body.toString(), `127.0.0.1:${a.port}`);
    const u = await request(withUrl, getAuthority(`http://127.0.0.1:${a.port}`));
    assert.equal(u.body.toString(), `127.0.0.1:${a.port}`);
    assert.deepEqual(a.handed, ['native', 'fixing']);
    // Both keep working: the native one for many requests, the fixed one with table references.
    for (let i = 0; i < 20; i++) {
      assert.equal((await request(plain, getAuthority(`127.0.0.1:${a.port}`))).status, '200');
      assert.equal((await request(withUrl, getAuthority(`http://127.0.0.1:${a.port}`))).status, '200');
    }
  } finally {
    plain.close();
    withUrl.close();
    await a.close();
  }
});

/** Frames a raw client reads, as they come. */
class RawClient {
  readonly socket: net.Socket;
  #bytes = Buffer.alloc(0);

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => (this.#bytes = Buffer.concat([this.#bytes, d])));
  }

  /** Waits until the frames received so far satisfy `done`; returns them. */
  async until(done: (list: Frame[]) => boolean): Promise<Frame[]> {
    for (let i = 0; i < 500; i++) {
      const whole = wholeFrames(this.#bytes);
      if (done(whole)) return whole;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`raw client: gave up; got ${this.#bytes.toString('hex')}`);
  }
}

function wholeFrames(bytes: Buffer): Frame[] {
  let end = 0;
  while (end + 9 <= bytes.length && end + 9 + bytes.readUIntBE(end, 3) <= bytes.length) end += 9 + bytes.readUIntBE(end, 3);
  return frames(bytes.subarray(0, end));
}

test('h2c - a client that waits for the server SETTINGS (as grpc-go does) is still handed over natively', async () => {
  const a = await acceptor();
  const raw = new RawClient(a.port);
  try {
    raw.socket.write(Buffer.concat([CLIENT_PREFACE, frame(FrameType.SETTINGS, 0, 0)]));
    await raw.until((list) => list.some((f) => f.type === FrameType.SETTINGS && f.flags === 0));
    const block = new ClientEncoder().encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'h:1']]);
    raw.socket.write(Buffer.concat([
      frame(FrameType.SETTINGS, FrameFlag.ACK, 0), // answers the acceptor's SETTINGS
      frame(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, block),
    ]));
    const got = await raw.until((list) => list.some((f) => f.type === FrameType.GOAWAY || (f.streamId === 1 && (f.flags & FrameFlag.END_STREAM) !== 0)));
    assert.deepEqual(a.handed, ['native']);
    assert.ok(!got.some((f) => f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM), 'no error from the inner server');
    const settings = got.filter((f) => f.type === FrameType.SETTINGS && f.flags === 0);
    assert.equal(settings.length, 2, "the acceptor's SETTINGS, then the inner server's");
    // The client answers the inner server's SETTINGS too, which the inner server expects.
    raw.socket.write(frame(FrameType.SETTINGS, FrameFlag.ACK, 0));
    raw.socket.write(frame(FrameType.PING, 0, 0, Buffer.alloc(8, 9)));
    const pong = await raw.until((list) => list.some((f) => f.type === FrameType.PING || f.type === FrameType.GOAWAY));
    assert.ok(pong.some((f) => f.type === FrameType.PING && f.flags === FrameFlag.ACK));
    assert.ok(!pong.some((f) => f.type === FrameType.GOAWAY));
  } finally {
    raw.socket.destroy();
    await a.close();
  }
});

test('h2c - a connection idle past the hold is served through the fixer, which still decides', async () => {
  const a = await acceptor(50);
  const idleUrl = http2.connect(`http://127.0.0.1:${a.port}`);
  const idlePlain = http2.connect(`http://127.0.0.1:${a.port}`);
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(a.handed, ['fixing', 'fixing']);
    for (let i = 0; i < 3; i++) {
      const u = await request(idleUrl, getAuthority(`http://127.0.0.1:${a.port}`));
      assert.equal(u.body.toString(), `127.0.0.1:${a.port}`);
      const p = await request(idlePlain, getAuthority(`127.0.0.1:${a.port}`));
      assert.equal(p.body.toString(), `127.0.0.1:${a.port}`);
    }
  } finally {
    idleUrl.close();
    idlePlain.close();
    await a.close();
  }
});

test('h2c - close() drops a connection still held, a cut preface only closes its connection', async () => {
  const { server, port } = await startServer(register);
  // A client that sends the preface and its SETTINGS, then nothing: it never ACKs ours.
  const silent = net.connect(port, '127.0.0.1');
  silent.on('error', () => {});
  silent.resume();
  silent.write(Buffer.concat([CLIENT_PREFACE, frame(FrameType.SETTINGS, 0, 0)]));
  const cut = net.connect(port, '127.0.0.1');
  cut.on('error', () => {});
  const cutClosed = new Promise((resolve) => cut.once('close', resolve));
  cut.end(CLIENT_PREFACE.subarray(0, 10));
  await cutClosed;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  assert.equal((await request(session, getAuthority('127.0.0.1'))).status, '200');
  session.close();
  const started = Date.now();
  const silentClosed = new Promise((resolve) => silent.once('close', resolve));
  await server.close(5000);
  await silentClosed;
  assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`);
});
