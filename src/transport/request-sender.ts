// The sending side of peer requests to one peer: one HTTP/2 connection of its own, dialled on
// first use and again after it fails, so requests neither queue behind the message stream's
// batches nor depend on that stream being up. Each request is one HTTP/2 stream; at most
// peerRequestsMax are in flight, each bounded by its timeout, and every way it can end (answer,
// timeout, abort, connection loss, close) settles it exactly once and cancels the stream.
import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { TransportError, TransportErrorCode } from './errors.ts';
import type { TransportLimits } from './limits.ts';
import { hexId } from './log.ts';
import type { Peer } from './peer.ts';
import { RequestStatus, decodeErrorBody, joinChunks, requestPath } from './request-wire.ts';

/** Options of one peer request. */
export interface PeerRequestOptions {
  /** How long to wait for the answer, connecting included; then it fails with Timeout. */
  timeoutMs: number;
  /** Aborting fails the request with the signal's reason, and cancels it on the peer. */
  signal?: AbortSignal | undefined;
}

/** One request under way: how to end it from outside (close, connection loss). */
type Cancel = (err: TransportError) => void;

/** The requests to one peer. */
export class RequestSender {
  readonly #peer: Peer;
  readonly #limits: TransportLimits;
  #session: ClientHttp2Session | undefined;
  #sessionUrl = '';
  readonly #inflight = new Set<Cancel>();
  readonly #probing = new WeakSet<ClientHttp2Session>();
  #closed = false;

  constructor(peer: Peer, limits: TransportLimits) {
    this.#peer = peer;
    this.#limits = limits;
  }

  /** Sends one request and resolves with the peer's answer (see PeerTransport.request). */
  request(method: string, body: Uint8Array, options: PeerRequestOptions): Promise<Uint8Array> {
    const what = `request "${method}" to member ${hexId(this.#peer.id)}`;
    const max = this.#limits.peerRequestBytesMax;
    if (this.#closed) {
      return Promise.reject(new TransportError(TransportErrorCode.Closed, 'transport: closed'));
    }
    if (body.length > max) {
      const why = `transport: ${what}: the body of ${body.length} bytes exceeds the limit of ${max}`;
      return Promise.reject(new TransportError(TransportErrorCode.TooLarge, why));
    }
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    if (this.#inflight.size >= this.#limits.peerRequestsMax) {
      const why = `transport: ${what}: ${this.#inflight.size} requests to this peer are in flight already`;
      return Promise.reject(new TransportError(TransportErrorCode.Busy, why));
    }
    return new Promise((resolve, reject) => this.#start(method, body, options, { resolve, reject, what }));
  }

  /** Drops the connection if its URL is no longer the peer's; requests on it may finish. */
  retarget(urls: readonly string[]): void {
    if (this.#session !== undefined && !urls.includes(this.#sessionUrl)) {
      this.#session.close();
      this.#session = undefined;
    }
  }

  /** Fails every request in flight with `err` and cuts the connection. Idempotent. */
  close(err: TransportError): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const cancel of [...this.#inflight]) cancel(err);
    this.#session?.destroy();
    this.#session = undefined;
  }

  #start(
    method: string,
    body: Uint8Array,
    options: PeerRequestOptions,
    settle: { resolve(v: Uint8Array): void; reject(err: unknown): void; what: string },
  ): void {
    const { what } = settle;
    let session: ClientHttp2Session | undefined;
    let stream: ClientHttp2Stream | undefined;
    let done = false;
    const finish = (err: unknown, value?: Uint8Array): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.#inflight.delete(cancel);
      if (stream !== undefined && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      if (err === undefined) settle.resolve(value!);
      else settle.reject(err);
    };
    const cancel: Cancel = (err) => finish(err);
    const onAbort = (): void => finish(options.signal!.reason);
    const timer = setTimeout(() => {
      const why = `transport: ${what} timed out after ${options.timeoutMs} ms`;
      finish(new TransportError(TransportErrorCode.Timeout, why));
      if (session !== undefined) this.#probe(session);
    }, options.timeoutMs);
    this.#inflight.add(cancel);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const lost = (why: string, cause?: unknown): void => {
      const message = `transport: ${what} failed: ${why}`;
      finish(new TransportError(TransportErrorCode.Connection, message, { cause }));
    };
    try {
      const headers = this.#peer.requestHeaders(requestPath(method));
      headers['content-length'] = String(body.length);
      session = this.#connect();
      stream = session.request(headers, { endStream: false });
    } catch (err) {
      return lost((err as Error).message, err);
    }
    readAnswer(stream, this.#limits.peerRequestBytesMax, (answer) => {
      if ('error' in answer) return lost(answer.error, answer.cause);
      if (answer.status === RequestStatus.Ok) return finish(undefined, answer.body);
      finish(answerError(what, answer.status, answer.body));
    });
    stream.end(body);
  }

  /** The connection to the peer, dialled if there is none (or it failed or is closing). */
  #connect(): ClientHttp2Session {
    const current = this.#session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    const url = this.#peer.url;
    const session = http2.connect(url, this.#peer.connectOptions(url));
    this.#session = session;
    this.#sessionUrl = url;
    const forget = (): void => {
      if (this.#session === session) this.#session = undefined;
    };
    // NB: streams on the session see its failure through their own error/close events.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    // Dialled means the peer's SETTINGS arrived: a TCP connection alone may be to a dead end.
    const dialTimer = setTimeout(() => session.destroy(new Error('dial timeout')), this.#limits.dialTimeoutMs);
    dialTimer.unref();
    session.once('remoteSettings', () => clearTimeout(dialTimer));
    session.once('close', () => clearTimeout(dialTimer));
    return session;
  }

  /**
   * After a timeout: pings the connection, and cuts it if the ping goes unanswered within
   * pingTimeoutMs, so a silently dead connection (a partition, a dropped NAT entry) is redialled
   * rather than timing out every later request too.
   */
  #probe(session: ClientHttp2Session): void {
    if (session.destroyed || this.#probing.has(session)) return;
    this.#probing.add(session);
    const timer = setTimeout(() => session.destroy(new Error('ping timeout')), this.#limits.pingTimeoutMs);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      this.#probing.delete(session);
    };
    session.once('close', done);
    try {
      session.ping((err) => {
        if (err === null) done();
      });
    } catch {
      done();
      session.destroy();
    }
  }
}

type Answer = { status: number; body: Uint8Array } | { error: string; cause?: unknown };

/** Reads the answer on `stream`, at most `bytesMax` of body; calls `done` once. */
function readAnswer(stream: ClientHttp2Stream, bytesMax: number, done: (answer: Answer) => void): void {
  let status = 0;
  let declared: number | undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('response', (headers) => {
    status = Number(headers[':status']);
    const length = headers['content-length'];
    if (length !== undefined) declared = Number(length);
  });
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > bytesMax) {
      done({ error: `the answer exceeds the limit of ${bytesMax} bytes` });
      stream.close(http2.constants.NGHTTP2_CANCEL);
    } else chunks.push(chunk);
  });
  stream.on('end', () => {
    // NB: a stream reset by the peer (RST_STREAM) ends too, with no answer or a partial one.
    if (status === 0) done({ error: 'the stream was reset before an answer' });
    else if (declared !== undefined && declared !== size) done({ error: 'the answer was cut short' });
    else done({ status, body: joinChunks(chunks, size) });
  });
  stream.on('error', (err) => done({ error: err.message, cause: err }));
  stream.on('close', () => done({ error: 'the stream closed before an answer' }));
}

/** The TransportError for a non-200 answer: Remote for a handler failure, else Refused. */
function answerError(what: string, status: number, body: Uint8Array): TransportError {
  const { code, message } = decodeErrorBody(body);
  const remote = { status, remoteCode: code, remoteMessage: message };
  if (status === RequestStatus.HandlerFailed) {
    const why = `transport: ${what} failed: ${message}`;
    return new TransportError(TransportErrorCode.Remote, why, { remote });
  }
  const why = `transport: ${what} was refused (status ${status}, ${code}): ${message}`;
  return new TransportError(TransportErrorCode.Refused, why, { remote });
}
