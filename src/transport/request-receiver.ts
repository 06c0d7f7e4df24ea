// The receiving side of peer requests, for streams the receiver has admitted (cluster, member and
// sender checked): reads the body up to peerRequestBytesMax, runs the member's handler with at
// most peerRequestsMax calls per sender, and answers 200 with its bytes or an error body. A
// handler that throws (or resolves with garbage) fails that request only, never the receiver.
import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { NodeId } from '../raft/index.ts';
import { TransportErrorCode } from './errors.ts';
import { PeerProtocol, type TransportLimits } from './limits.ts';
import { type TransportLog, hexId } from './log.ts';
import {
  RequestRefusal,
  RequestStatus,
  describeHandlerError,
  encodeErrorBody,
  isRequestMethod,
  joinChunks,
} from './request-wire.ts';

/** The member's handler of peer requests (PeerTransportOptions.onPeerRequest). */
export type PeerRequestHandler = (
  from: NodeId,
  method: string,
  body: Uint8Array,
  context: PeerRequestContext,
) => Promise<Uint8Array>;

/** What a handler is told besides the request. */
export interface PeerRequestContext {
  /** Aborted when the caller gives up (timeout, abort, connection lost) or the transport closes. */
  signal: AbortSignal;
}

/** What the request receiver needs from the transport. */
export interface RequestReceiverContext {
  clusterId: bigint;
  limits: TransportLimits;
  log: TransportLog;
  handler: PeerRequestHandler | undefined;
}

/** An error answer. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  clusterId: bigint;
}

/** Runs admitted peer requests through the member's handler. */
export class RequestReceiver {
  readonly #ctx: RequestReceiverContext;
  /** Handler calls (or body reads) under way, per sender. */
  readonly #running = new Map<NodeId, number>();
  readonly #streams = new Set<ServerHttp2Stream>();

  constructor(ctx: RequestReceiverContext) {
    this.#ctx = ctx;
  }

  /** Serves one admitted request from `from` for `method` (as named by the path). */
  receive(stream: ServerHttp2Stream, from: NodeId, method: string, headers: IncomingHttpHeaders): void {
    const refuse = (status: number, code: RequestRefusal, message: string): void =>
      answerError(stream, { status, code, message, clusterId: this.#ctx.clusterId });
    if (!isRequestMethod(method)) {
      const why = `transport: bad request method ${JSON.stringify(method.slice(0, 80))}`;
      return refuse(RequestStatus.Malformed, RequestRefusal.Malformed, why);
    }
    const handler = this.#ctx.handler;
    if (handler === undefined) {
      const why = 'transport: this member serves no peer requests';
      return refuse(RequestStatus.NoHandler, RequestRefusal.NoHandler, why);
    }
    const running = this.#running.get(from) ?? 0;
    if (running >= this.#ctx.limits.peerRequestsMax) {
      const why = `transport: ${running} requests from member ${hexId(from)} are running already`;
      this.#ctx.log('warn', `transport: refused request "${method}" from member ${hexId(from)}: ${why}`);
      return refuse(RequestStatus.Busy, RequestRefusal.Busy, why);
    }
    const declared = Number(headers['content-length'] ?? 0);
    if (declared > this.#ctx.limits.peerRequestBytesMax) {
      return this.#refuseTooLarge(stream, { from, method }, declared);
    }
    this.#running.set(from, running + 1);
    this.#run(stream, { from, method, handler });
  }

  /** Cancels every request being read or handled (their handlers' signals abort). */
  close(): void {
    for (const stream of this.#streams) stream.close(http2.constants.NGHTTP2_CANCEL);
    this.#streams.clear();
  }

  /** Reads the body, then runs the handler; the sender's count drops when both are over. */
  #run(stream: ServerHttp2Stream, call: { from: NodeId; method: string; handler: PeerRequestHandler }): void {
    this.#streams.add(stream);
    const controller = new AbortController();
    let handling = false;
    let answered = false;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const n = (this.#running.get(call.from) ?? 1) - 1;
      if (n === 0) this.#running.delete(call.from);
      else this.#running.set(call.from, n);
    };
    stream.once('close', () => {
      this.#streams.delete(stream);
      if (!answered) controller.abort(new Error('transport: the peer request was cancelled'));
      if (!handling) release();
    });

    const max = this.#ctx.limits.peerRequestBytesMax;
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      if (size > max) return; // refused: drained and dropped until the sender cancels the stream
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      chunks.length = 0;
      this.#refuseTooLarge(stream, call, size);
    });
    stream.once('end', () => {
      if (size > max || stream.destroyed) return;
      handling = true;
      const request = { ...call, body: joinChunks(chunks, size), signal: controller.signal };
      void this.#handle(stream, request)
        .catch((err: unknown) => {
          const why = err instanceof Error ? err.message : String(err);
          this.#ctx.log('error', `transport: cannot answer request "${call.method}": ${why}`);
          stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        })
        .finally(() => {
          answered = true;
          release();
        });
    });
  }

  /** Runs the handler and answers with what it resolved, or with its failure. */
  async #handle(stream: ServerHttp2Stream, call: HandlerCall): Promise<void> {
    const { from, method } = call;
    const fail = (code: string, message: string, level: 'debug' | 'error'): void => {
      const line = `transport: request "${method}" from member ${hexId(from)} failed: ${message}`;
      this.#ctx.log(level, level === 'debug' ? `${line} (${code})` : line);
      const status = RequestStatus.HandlerFailed;
      answerError(stream, { status, code, message, clusterId: this.#ctx.clusterId });
    };
    let response: Uint8Array;
    try {
      response = await call.handler(from, method, call.body, { signal: call.signal });
      if (!(response instanceof Uint8Array)) throw new TypeError('the handler resolved with no Uint8Array');
    } catch (err) {
      const { code, message, coded } = describeHandlerError(err);
      return fail(code, message, coded ? 'debug' : 'error');
    }
    const max = this.#ctx.limits.peerRequestBytesMax;
    if (response.length > max) {
      const why = `transport: the response of ${response.length} bytes exceeds the limit of ${max}`;
      return fail(TransportErrorCode.TooLarge, why, 'error');
    }
    if (stream.destroyed || stream.headersSent) return;
    stream.respond({
      ':status': RequestStatus.Ok,
      'content-type': 'application/octet-stream',
      'content-length': String(response.length),
      [PeerProtocol.clusterIdHeader]: hexId(this.#ctx.clusterId),
    });
    stream.end(response);
  }

  #refuseTooLarge(stream: ServerHttp2Stream, call: { from: NodeId; method: string }, bytes: number): void {
    const max = this.#ctx.limits.peerRequestBytesMax;
    const what = `request "${call.method}" from member ${hexId(call.from)}`;
    this.#ctx.log('warn', `transport: refused ${what}: its body of ${bytes} bytes exceeds the limit of ${max}`);
    const message = `transport: the request body of ${bytes} bytes or more exceeds the limit of ${max}`;
    const status = RequestStatus.TooLarge;
    answerError(stream, { status, code: RequestRefusal.TooLarge, message, clusterId: this.#ctx.clusterId });
  }
}

/** One handler call. */
interface HandlerCall {
  from: NodeId;
  method: string;
  body: Uint8Array;
  handler: PeerRequestHandler;
  signal: AbortSignal;
}

/** Answers a request with a JSON error body (once; a no-op on a stream answered or gone). */
export function answerError(stream: ServerHttp2Stream, answer: ErrorAnswer): void {
  if (stream.destroyed || stream.headersSent) return;
  const body = Buffer.from(encodeErrorBody(answer.code, answer.message));
  stream.respond({
    ':status': answer.status,
    'content-type': 'application/json',
    'content-length': String(body.length),
    [PeerProtocol.clusterIdHeader]: hexId(answer.clusterId),
  });
  stream.end(body);
}
