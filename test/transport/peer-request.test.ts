// Peer requests between real transports on loopback: round trips, a handler's error reaching the
// caller with its code and message, timeouts and aborts cancelling the handler, the per-peer
// concurrency and body bounds on both sides, refusals (unknown peer or sender, another cluster,
// no handler), close and removePeer failing what is in flight, and the same over TLS.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import {
  PeerProtocol,
  RequestRefusal,
  TransportErrorCode,
  isTransportError,
  type PeerTransportOptions,
  type TransportError,
} from '../../src/transport/index.ts';
import { connectAll, freePort, makeCertificates, startMember, waitFor, type TestMember } from './helpers.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const opts = { timeoutMs: 2000 };

type Handler = NonNullable<PeerTransportOptions['onPeerRequest']>;

/** An error as a member's room throws it: a code and a message. */
function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Asserts `promise` rejects with a TransportError matching `expected`; returns the error. */
async function rejectsWith(
  promise: Promise<unknown>,
  expected: Partial<Pick<TransportError, 'code' | 'status' | 'remoteCode' | 'remoteMessage'>>,
): Promise<TransportError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => (caught = err),
  );
  assert.ok(isTransportError(caught), `not a TransportError: ${String(caught)}`);
  for (const [key, value] of Object.entries(expected)) {
    assert.equal(caught[key as keyof TransportError], value, `${key} of "${caught.message}"`);
  }
  return caught;
}

/** Two members that know each other, `b` serving requests with `handler`. */
async function pair(
  handler: Handler,
  options: { a?: Partial<PeerTransportOptions>; b?: Partial<PeerTransportOptions> } = {},
): Promise<[TestMember, TestMember]> {
  const a = await startMember(1n, options.a);
  const b = await startMember(2n, { onPeerRequest: handler, ...options.b });
  connectAll([a, b]);
  return [a, b];
}

async function closeAll(members: readonly TestMember[]): Promise<void> {
  await Promise.all(members.map((m) => m.transport.close()));
}

test('peer request - a request reaches the handler and its answer comes back, many at once', async () => {
  const seen: string[] = [];
  const [a, b] = await pair(async (from, method, body) => {
    seen.push(`${from} ${method} ${text(body)}`);
    return bytes(`${method}:${text(body)}`);
  });
  try {
    assert.equal(text(await a.transport.request(2n, 'lease-renew', bytes('id=7'), opts)), 'lease-renew:id=7');
    assert.deepEqual(seen, ['1 lease-renew id=7']);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => a.transport.request(2n, 'lease-ttl', bytes(String(i)), opts)),
    );
    assert.deepEqual(answers.map(text), Array.from({ length: 50 }, (_, i) => `lease-ttl:${i}`));
    // An empty body and an empty answer are fine too.
    assert.equal(text(await a.transport.request(2n, 'ping', new Uint8Array(0), opts)), 'ping:');
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - a handler error reaches the caller with its code and message; the receiver lives on', async () => {
  const [a, b] = await pair((_from, method) => {
    if (method === 'coded') return Promise.reject(codedError('lease-not-found', 'lease 7 not found'));
    if (method === 'numeric') return Promise.reject(Object.assign(new Error('no leader'), { code: 14 }));
    if (method === 'uncoded') throw new Error('something broke');
    if (method === 'garbage') return Promise.resolve('not bytes' as unknown as Uint8Array);
    return Promise.resolve(bytes('fine'));
  });
  try {
    const err = await rejectsWith(a.transport.request(2n, 'coded', bytes('x'), opts), {
      code: TransportErrorCode.Remote,
      status: 500,
      remoteCode: 'lease-not-found',
      remoteMessage: 'lease 7 not found',
    });
    assert.match(err.message, /^transport: request "coded" to member 2 failed: lease 7 not found$/);
    await rejectsWith(a.transport.request(2n, 'numeric', bytes('x'), opts), { remoteCode: '14', remoteMessage: 'no leader' });
    await rejectsWith(a.transport.request(2n, 'uncoded', bytes('x'), opts), {
      code: TransportErrorCode.Remote,
      remoteCode: 'unknown',
      remoteMessage: 'something broke',
    });
    await rejectsWith(a.transport.request(2n, 'garbage', bytes('x'), opts), { code: TransportErrorCode.Remote });
    assert.ok(b.logs.some((l) => l.startsWith('error: transport: request "uncoded" from member 1 failed: something broke')));
    assert.equal(text(await a.transport.request(2n, 'other', bytes('x'), opts)), 'fine');
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - no answer within the timeout fails with Timeout and cancels the handler', async () => {
  const started: string[] = [];
  const aborted: string[] = [];
  const [a, b] = await pair((_from, method, _body, context) => {
    started.push(method);
    return new Promise((_resolve, reject) => {
      context.signal.addEventListener('abort', () => {
        aborted.push(method);
        reject(new Error('cancelled'));
      });
    });
  });
  try {
    const startedAt = Date.now();
    const err = await rejectsWith(a.transport.request(2n, 'slow', bytes('x'), { timeoutMs: 100 }), {
      code: TransportErrorCode.Timeout,
    });
    assert.ok(Date.now() - startedAt >= 95, 'not before the timeout');
    assert.match(err.message, /request "slow" to member 2 timed out after 100 ms/);
    await waitFor(() => aborted.includes('slow'), 'the handler to see the cancellation');

    // An abort signal rejects with its reason, and cancels the handler the same way.
    const controller = new AbortController();
    const pending = a.transport.request(2n, 'aborted', bytes('x'), { timeoutMs: 5000, signal: controller.signal });
    await waitFor(() => started.includes('aborted'), 'the request at the handler');
    controller.abort(new Error('client went away'));
    await assert.rejects(pending, /client went away/);
    await waitFor(() => aborted.includes('aborted'), 'the handler to see the abort');
    await assert.rejects(
      a.transport.request(2n, 'late', bytes('x'), { timeoutMs: 100, signal: controller.signal }),
      /client went away/,
    );
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - past peerRequestsMax in flight a request fails at once with Busy', async () => {
  const release: Array<() => void> = [];
  const [a, b] = await pair(
    () => new Promise((resolve) => release.push(() => resolve(bytes('done')))),
    { a: { limits: { peerRequestsMax: 2 } } },
  );
  try {
    const first = a.transport.request(2n, 'hold', bytes('1'), opts);
    const second = a.transport.request(2n, 'hold', bytes('2'), opts);
    await rejectsWith(a.transport.request(2n, 'hold', bytes('3'), opts), { code: TransportErrorCode.Busy });
    await waitFor(() => release.length === 2, 'both requests at the handler');
    for (const r of release) r();
    assert.deepEqual((await Promise.all([first, second])).map(text), ['done', 'done']);
    // Room again once they are answered.
    const third = a.transport.request(2n, 'hold', bytes('3'), opts);
    await waitFor(() => release.length === 3, 'the third request at the handler');
    release[2]!();
    assert.equal(text(await third), 'done');
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - the receiver runs at most peerRequestsMax handlers per sender (503 busy)', async () => {
  const release: Array<() => void> = [];
  const [a, b] = await pair(() => new Promise((resolve) => release.push(() => resolve(bytes('done')))), {
    b: { limits: { peerRequestsMax: 1 } },
  });
  try {
    const first = a.transport.request(2n, 'hold', bytes('1'), opts);
    await waitFor(() => release.length === 1, 'the first request at the handler');
    await rejectsWith(a.transport.request(2n, 'hold', bytes('2'), opts), {
      code: TransportErrorCode.Refused,
      status: 503,
      remoteCode: RequestRefusal.Busy,
    });
    release[0]!();
    assert.equal(text(await first), 'done');
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - bodies past peerRequestBytesMax are refused on either side', async () => {
  const [a, b] = await pair(async (_from, method, body) => (method === 'big-answer' ? new Uint8Array(70_000) : body), {
    a: { limits: { peerRequestBytesMax: 200_000 } },
    b: { limits: { peerRequestBytesMax: 64 * 1024 } },
  });
  try {
    // The sender's own limit: nothing is sent.
    const tooBig = new Uint8Array(200_001);
    const err = await rejectsWith(a.transport.request(2n, 'echo', tooBig, opts), { code: TransportErrorCode.TooLarge });
    assert.match(err.message, /the body of 200001 bytes exceeds the limit of 200000/);
    // The receiver's smaller limit: 413, refused from the content-length header up front.
    await rejectsWith(a.transport.request(2n, 'echo', new Uint8Array(100_000), opts), {
      code: TransportErrorCode.Refused,
      status: 413,
      remoteCode: RequestRefusal.TooLarge,
    });
    assert.ok(b.logs.some((l) => /refused request "echo" from member 1: its body of 100000 bytes/.test(l)));
    // At the limit is fine, and the connection is still good after a refusal.
    const atLimit = new Uint8Array(64 * 1024).fill(7);
    assert.deepEqual(await a.transport.request(2n, 'echo', atLimit, opts), atLimit);
    // A handler answering past the limit fails the request, not the receiver.
    await rejectsWith(a.transport.request(2n, 'big-answer', bytes('x'), opts), {
      code: TransportErrorCode.Remote,
      remoteCode: TransportErrorCode.TooLarge,
    });
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - a body past the limit without content-length is cut off while it streams in', async () => {
  const [a, b] = await pair(async (_from, _method, body) => body, { b: { limits: { peerRequestBytesMax: 1000 } } });
  try {
    const session = http2.connect(b.url);
    const stream = session.request({
      ':method': 'POST',
      ':path': `${PeerProtocol.requestPathPrefix}echo`,
      [PeerProtocol.fromHeader]: '1',
      [PeerProtocol.toHeader]: '2',
      [PeerProtocol.clusterIdHeader]: 'c1',
    });
    const answer = readRaw(stream);
    stream.write(new Uint8Array(600));
    stream.end(new Uint8Array(600));
    const { status, body } = await answer;
    assert.equal(status, 413);
    assert.equal(JSON.parse(body).code, 'too-large');
    session.destroy();
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - a peer that accepts but never speaks HTTP/2 fails after dialTimeoutMs', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const a = await startMember(1n, { limits: { dialTimeoutMs: 150 } });
  try {
    a.transport.addPeer(2n, [url]);
    const startedAt = Date.now();
    await rejectsWith(a.transport.request(2n, 'lease-renew', bytes('x'), { timeoutMs: 5000 }), {
      code: TransportErrorCode.Connection,
    });
    assert.ok(Date.now() - startedAt < 2000, 'failed by the dial timeout, not the request timeout');
  } finally {
    await a.transport.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test('peer request - a connection that goes silent is cut after a timeout and the next request redials', async () => {
  const [a, b] = await pair(async () => bytes('pong'), { a: { limits: { pingTimeoutMs: 100 } } });
  const proxy = await freezableProxy(b.url);
  try {
    a.transport.updatePeer(2n, [proxy.url]);
    assert.equal(text(await a.transport.request(2n, 'ping', bytes('x'), opts)), 'pong');
    const connections = proxy.connections();
    proxy.freeze(true); // a partition: bytes go nowhere, nothing is closed
    await rejectsWith(a.transport.request(2n, 'ping', bytes('x'), { timeoutMs: 100 }), {
      code: TransportErrorCode.Timeout,
    });
    await waitFor(() => proxy.closed() >= 1, 'the unanswered ping to cut the request connection');
    proxy.freeze(false);
    assert.equal(text(await a.transport.request(2n, 'ping', bytes('x'), opts)), 'pong');
    assert.ok(proxy.connections() > connections, 'the next request dialled again');
  } finally {
    await closeAll([a, b]);
    await proxy.close();
  }
});

test('peer request - unknown peers, unknown senders and unreachable peers fail clearly', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n, { onPeerRequest: async () => bytes('hi') });
  try {
    await rejectsWith(a.transport.request(9n, 'lease-renew', bytes('x'), opts), { code: TransportErrorCode.UnknownPeer });
    // b does not know a yet: 404.
    a.transport.addPeer(2n, [b.url]);
    const err = await rejectsWith(a.transport.request(2n, 'lease-renew', bytes('x'), opts), {
      code: TransportErrorCode.Refused,
      status: 404,
      remoteCode: RequestRefusal.UnknownSender,
    });
    assert.match(err.message, /was refused \(status 404, unknown-sender\): sender not found/);
    b.transport.addPeer(1n, [a.url]);
    assert.equal(text(await a.transport.request(2n, 'lease-renew', bytes('x'), opts)), 'hi');
    // Nobody listens at 3's URL.
    a.transport.addPeer(3n, [`http://127.0.0.1:${await freePort()}`]);
    await rejectsWith(a.transport.request(3n, 'lease-renew', bytes('x'), opts), { code: TransportErrorCode.Connection });
    // A member without a handler refuses with 501.
    await rejectsWith(b.transport.request(1n, 'lease-renew', bytes('x'), opts), {
      code: TransportErrorCode.Refused,
      status: 501,
      remoteCode: RequestRefusal.NoHandler,
    });
    // A bad method name is a bug of the caller.
    await assert.rejects(a.transport.request(2n, 'Lease Renew', bytes('x'), opts), { name: 'InvariantError' });
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - a member of another cluster refuses with 412 cluster-id-mismatch', async () => {
  let called = false;
  const [a, b] = await pair(
    async () => {
      called = true;
      return bytes('no');
    },
    { b: { clusterId: 0xbadn } },
  );
  try {
    const err = await rejectsWith(a.transport.request(2n, 'lease-renew', bytes('x'), opts), {
      code: TransportErrorCode.Refused,
      status: 412,
      remoteCode: RequestRefusal.ClusterMismatch,
    });
    assert.match(err.message, /cluster ID mismatch \(local bad, remote c1\)/);
    assert.ok(b.logs.some((l) => /refused a request from member 1: cluster ID mismatch \(local bad, remote c1\)/.test(l)));
    assert.equal(called, false);
  } finally {
    await closeAll([a, b]);
  }
});

test('peer request - the wire: errors are JSON {code, message}; a request for another member is 412', async () => {
  const [a, b] = await pair(() => Promise.reject(codedError('lease-not-found', 'lease 7 not found')));
  const session = http2.connect(b.url);
  try {
    const post = (to: string, method: string): Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }> => {
      const stream = session.request({
        ':method': 'POST',
        ':path': PeerProtocol.requestPathPrefix + method,
        [PeerProtocol.fromHeader]: '1',
        [PeerProtocol.toHeader]: to,
        [PeerProtocol.clusterIdHeader]: 'c1',
      });
      const answer = readRaw(stream);
      stream.end(bytes('x'));
      return answer;
    };
    const failed = await post('2', 'lease-renew');
    assert.equal(failed.status, 500);
    assert.equal(failed.headers['content-type'], 'application/json');
    assert.equal(failed.headers[PeerProtocol.clusterIdHeader], 'c1');
    assert.deepEqual(JSON.parse(failed.body), { code: 'lease-not-found', message: 'lease 7 not found' });
    const wrongMember = await post('5', 'lease-renew');
    assert.deepEqual([wrongMember.status, JSON.parse(wrongMember.body).code], [412, 'member-id-mismatch']);
    const badMethod = await post('2', 'Bad_Method');
    assert.deepEqual([badMethod.status, JSON.parse(badMethod.body).code], [400, 'malformed']);
  } finally {
    session.destroy();
    await closeAll([a, b]);
  }
});

test('peer request - close and removePeer fail what is in flight; the receiver closing cancels handlers', async () => {
  let cancelled = 0;
  const hold: Handler = (_from, _method, _body, { signal }) =>
    new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => {
        cancelled += 1;
        reject(new Error('cancelled'));
      });
    });
  const [a, b] = await pair(hold);
  const c = await startMember(3n, { onPeerRequest: hold });
  try {
    const removed = a.transport.request(2n, 'hold', bytes('x'), opts);
    await new Promise((resolve) => setTimeout(resolve, 50));
    a.transport.removePeer(2n);
    await rejectsWith(removed, { code: TransportErrorCode.Connection });
    await waitFor(() => cancelled === 1, 'the handler to be cancelled');

    a.transport.addPeer(2n, [b.url]);
    const pending = rejectsWith(a.transport.request(2n, 'hold', bytes('x'), opts), {
      code: TransportErrorCode.Connection,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await b.transport.close(); // the receiver goes: the handler is cancelled, the caller told
    await waitFor(() => cancelled === 2, 'the handler to be cancelled by close');
    await pending;

    c.transport.addPeer(1n, [a.url]);
    a.transport.addPeer(3n, [c.url]);
    const closing = rejectsWith(a.transport.request(3n, 'hold', bytes('x'), { timeoutMs: 5000 }), {
      code: TransportErrorCode.Closed,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await a.transport.close();
    await closing;
    await rejectsWith(a.transport.request(3n, 'hold', bytes('x'), opts), { code: TransportErrorCode.Closed });
  } finally {
    await closeAll([a, b, c]);
  }
});

test('peer request - requests work over TLS with client certificates required', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-transport-request-tls-'));
  const tls = { ...makeCertificates(dir), clientCertAuth: true };
  const listen = { tls, listenUrl: 'https://127.0.0.1:0' };
  const [a, b] = await pair(
    async (from, method, body) => {
      if (method === 'fail') throw codedError('lease-not-found', 'nope');
      return bytes(`${from}:${method}:${body.length}`);
    },
    { a: listen, b: listen },
  );
  try {
    assert.match(b.url, /^https:/);
    assert.equal(text(await a.transport.request(2n, 'lease-renew', new Uint8Array(300_000), opts)), '1:lease-renew:300000');
    await rejectsWith(a.transport.request(2n, 'fail', bytes('x'), opts), { remoteCode: 'lease-not-found', remoteMessage: 'nope' });
  } finally {
    await closeAll([a, b]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Status, headers and text body of a raw HTTP/2 answer. */
function readRaw(stream: http2.ClientHttp2Stream): Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    let headers: http2.IncomingHttpHeaders = {};
    let body = '';
    stream.on('response', (h) => (headers = h));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status: Number(headers[':status']), body, headers }));
    stream.on('error', reject);
  });
}

/** A TCP proxy to `target` that can be frozen: while frozen, bytes either way are dropped. */
async function freezableProxy(target: string): Promise<{
  url: string;
  freeze(on: boolean): void;
  connections(): number;
  closed(): number;
  close(): Promise<void>;
}> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let frozen = false;
  let connections = 0;
  let closed = 0;
  const forward = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk) => {
      if (!frozen) to.write(chunk);
    });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((client) => {
    connections += 1;
    client.on('close', () => (closed += 1));
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: (on) => (frozen = on),
    connections: () => connections,
    closed: () => closed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
