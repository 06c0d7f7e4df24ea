// One gRPC call on one HTTP/2 stream: frames in (length-prefixed, optional gzip, size-capped),
// the handler run, frames and status out. Lean for unary: one object per call, listeners are
// shared functions that find the call on the stream, headers+data+trailers go out in one batch.
// Invariant: exactly one status per call; after it (`#done`) incoming bytes are dropped.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { gunzipSync } from 'node:zlib';
import { RequestQueue } from './request-queue.ts';
import { GrpcError, GrpcMessages, GrpcStatus, encodeGrpcMessage } from './status.ts';
import type { GrpcMetadata } from './status.ts';
import type { AnyHandler, MethodDefinition, ServerWritableCall } from './types.ts';

/** Server-wide settings a call reads. */
export interface CallConfig {
  /** Largest request message accepted, in bytes (after decompression). */
  readonly maxReceiveMessageBytes: number;
  /** Told of handler errors that are not GrpcErrors (they reach the client as UNKNOWN). */
  readonly onHandlerError: ((err: unknown, path: string) => void) | undefined;
  /** Checked before every handler runs; a throw (GrpcError) answers the call instead. */
  readonly admit: ((def: MethodDefinition, request: unknown) => void) | undefined;
}

/** A registered method and its handler. */
export interface RegisteredMethod {
  readonly def: MethodDefinition;
  readonly handler: AnyHandler;
}

const CALL = Symbol('grpcCall');
type CallStream = ServerHttp2Stream & { [CALL]?: GrpcCall };

/** Response headers of every gRPC response (copied by node, so safe to share). */
export const GRPC_RESPONSE_HEADERS: OutgoingHttpHeaders = {
  ':status': 200,
  'content-type': 'application/grpc',
  'grpc-accept-encoding': 'identity,gzip',
};
const OK_TRAILERS: OutgoingHttpHeaders = { 'grpc-status': '0' };
const WAIT_FOR_TRAILERS = { waitForTrailers: true };
const END_STREAM = { endStream: true };
const RESOLVED = Promise.resolve();

function toHeaders(metadata: GrpcMetadata): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const key of Object.keys(metadata)) {
    const v = metadata[key]!;
    out[key] = Buffer.isBuffer(v) ? v.toString('base64') : v;
  }
  return out;
}

/** Sends a status with no messages (trailers-only), for calls that fail before a handler runs. */
export function respondTrailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
  stream.on('error', noop);
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    { ...GRPC_RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) },
    END_STREAM,
  );
  stream.resume(); // drain whatever the client still sends
}

function noop(): void {}

/** A gRPC call in progress; created by the server for each stream of a registered method. */
export class GrpcCall implements ServerWritableCall<unknown> {
  readonly metadata: IncomingHttpHeaders;
  readonly #stream: CallStream;
  readonly #method: RegisteredMethod;
  readonly #config: CallConfig;
  readonly #gzip: boolean;
  #chunks: Buffer[] | undefined;
  #pendingBytes = 0;
  #needBytes = 5;
  #request: Buffer | undefined;
  #queue: RequestQueue<unknown> | undefined;
  #headersSent = false;
  #done = false;
  #handlerActive = false;
  #status: number = GrpcStatus.OK;
  #statusMessage = '';
  #responseHeaders: OutgoingHttpHeaders | undefined;
  #trailers: OutgoingHttpHeaders | undefined;
  #controller: AbortController | undefined;
  #abortReason: GrpcError | undefined;
  #timer: NodeJS.Timeout | undefined;
  #drainWaiters: (() => void)[] | undefined;

  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    method: RegisteredMethod,
    config: CallConfig,
    timeoutMs: number | undefined,
  ) {
    this.metadata = headers;
    this.#stream = stream;
    this.#method = method;
    this.#config = config;
    this.#gzip = headers['grpc-encoding'] === 'gzip';
    (stream as CallStream)[CALL] = this;
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('close', onStreamClose);
    stream.on('error', noop);
    stream.on('wantTrailers', onWantTrailers);
    if (timeoutMs !== undefined) this.#timer = setTimeout(onDeadline, timeoutMs, this);
    if (method.def.clientStreaming) {
      this.#queue = new RequestQueue(
        () => stream.pause(),
        () => stream.resume(),
      );
      this.#run(this.#queue);
    }
  }

  get path(): string {
    return this.#method.def.path;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  sendMetadata(metadata: GrpcMetadata): void {
    if (this.#headersSent) throw new Error('grpc: response headers already sent');
    this.#responseHeaders = { ...(this.#responseHeaders ?? GRPC_RESPONSE_HEADERS), ...toHeaders(metadata) };
  }

  setTrailers(metadata: GrpcMetadata): void {
    this.#trailers = { ...this.#trailers, ...toHeaders(metadata) };
  }

  write(msg: unknown): boolean {
    if (this.#done || this.#stream.destroyed) return false;
    const frame = this.#method.def.response.encodeFrame(msg);
    if (!this.#headersSent) {
      this.#headersSent = true;
      this.#stream.respond(this.#responseHeaders ?? GRPC_RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    }
    return this.#stream.write(frame);
  }

  send(msg: unknown): Promise<void> {
    return this.write(msg) ? RESOLVED : this.drained();
  }

  drained(): Promise<void> {
    const stream = this.#stream;
    if (this.#done || stream.destroyed || !stream.writableNeedDrain) return RESOLVED;
    return new Promise((resolve) => {
      if (this.#drainWaiters === undefined) {
        this.#drainWaiters = [];
        stream.on('drain', onStreamDrain);
      }
      this.#drainWaiters.push(resolve);
    });
  }

  /** Frames arrive: split them into messages (the common case, one whole frame, copies nothing). */
  onData(chunk: Buffer): void {
    if (this.#done) return;
    let buf = chunk;
    if (this.#chunks !== undefined) {
      this.#chunks.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < this.#needBytes) return;
      buf = Buffer.concat(this.#chunks, this.#pendingBytes);
      this.#chunks = undefined;
    }
    let pos = 0;
    const max = this.#config.maxReceiveMessageBytes;
    while (buf.length - pos >= 5) {
      const len = buf.readUInt32BE(pos + 1);
      if (len > max) return this.fail(GrpcStatus.RESOURCE_EXHAUSTED, GrpcMessages.tooLarge(len, max));
      if (buf.length - pos - 5 < len) break;
      const compressed = buf[pos] !== 0;
      const payload = buf.subarray(pos + 5, pos + 5 + len);
      pos += 5 + len;
      this.#onMessage(payload, compressed);
      if (this.#done) return;
    }
    if (pos < buf.length) {
      const rest = buf.subarray(pos);
      this.#chunks = [rest];
      this.#pendingBytes = rest.length;
      this.#needBytes = rest.length >= 5 ? 5 + rest.readUInt32BE(1) : 5;
    }
  }

  /** The client half-closed its side. */
  onEnd(): void {
    if (this.#done) return;
    if (this.#chunks !== undefined) {
      return this.fail(GrpcStatus.INTERNAL, GrpcMessages.unmarshal('unexpected EOF'));
    }
    if (this.#queue !== undefined) {
      // NB: node emits 'end' before 'close' when the client resets the stream; wait a turn so
      // that a cancel fails the iteration (and aborts the signal) instead of ending it cleanly.
      setImmediate(endQueue, this.#queue);
      return;
    }
    const request = this.#request;
    if (request === undefined) {
      return this.fail(GrpcStatus.INTERNAL, GrpcMessages.unmarshal('no request message'));
    }
    let decoded: unknown;
    try {
      decoded = this.#method.def.request.decode(request);
    } catch (err) {
      return this.fail(GrpcStatus.INTERNAL, GrpcMessages.unmarshal((err as Error).message));
    }
    this.#run(decoded);
  }

  /** The stream closed (finished, or reset by the client). */
  onClose(): void {
    this.#clearTimer();
    if (!this.#done || this.#handlerActive) {
      this.#done = true;
      this.abort(new GrpcError(GrpcStatus.CANCELLED, GrpcMessages.cancelled));
    }
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    if (waiters !== undefined) for (const w of waiters) w();
  }

  onDrain(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    this.#stream.off('drain', onStreamDrain);
    if (waiters !== undefined) for (const w of waiters) w();
  }

  /** Aborts the handler's signal (once) and fails the request iteration. */
  abort(reason: GrpcError): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
    this.#queue?.fail(reason);
  }

  /** The deadline passed: DEADLINE_EXCEEDED to the client and to the handler's signal. */
  expire(): void {
    this.#timer = undefined;
    const reason = new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, GrpcMessages.deadlineExceeded);
    this.fail(reason.code, reason.message);
    this.abort(reason);
  }

  /** Ends the call with a status (once). */
  fail(code: number, message: string, metadata?: GrpcMetadata): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    this.#chunks = undefined;
    this.#queue?.fail(new GrpcError(code as GrpcStatus, message));
    const stream = this.#stream;
    if (stream.destroyed) return;
    if (metadata !== undefined) this.setTrailers(metadata);
    if (!this.#headersSent) {
      this.#headersSent = true;
      const headers: OutgoingHttpHeaders = {
        ...(this.#responseHeaders ?? GRPC_RESPONSE_HEADERS),
        ...this.#trailers,
        'grpc-status': String(code),
      };
      if (message !== '') headers['grpc-message'] = encodeGrpcMessage(message);
      stream.respond(headers, END_STREAM);
      stream.resume();
      return;
    }
    this.#status = code;
    this.#statusMessage = message;
    stream.end();
  }

  /** Node asks for the trailers after the last DATA frame. */
  sendTrailers(): void {
    let trailers = OK_TRAILERS;
    if (this.#status !== GrpcStatus.OK || this.#trailers !== undefined) {
      trailers = { ...this.#trailers, 'grpc-status': String(this.#status) };
      if (this.#statusMessage !== '') trailers['grpc-message'] = encodeGrpcMessage(this.#statusMessage);
    }
    this.#stream.sendTrailers(trailers);
  }

  #onMessage(payload: Buffer, compressed: boolean): void {
    if (compressed) {
      const inflated = this.#inflate(payload);
      if (inflated === undefined) return;
      payload = inflated;
    }
    const queue = this.#queue;
    if (queue === undefined) {
      if (this.#request !== undefined) {
        return this.fail(GrpcStatus.INTERNAL, GrpcMessages.unmarshal('more than one request message'));
      }
      this.#request = payload;
      return;
    }
    let decoded: unknown;
    try {
      decoded = this.#method.def.request.decode(payload);
    } catch (err) {
      return this.fail(GrpcStatus.INTERNAL, GrpcMessages.unmarshal((err as Error).message));
    }
    queue.push(decoded);
  }

  #inflate(payload: Buffer): Buffer | undefined {
    if (!this.#gzip) {
      this.fail(GrpcStatus.INTERNAL, GrpcMessages.compressedWithoutEncoding);
      return undefined;
    }
    const max = this.#config.maxReceiveMessageBytes;
    try {
      return gunzipSync(payload, { maxOutputLength: max });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        this.fail(GrpcStatus.RESOURCE_EXHAUSTED, GrpcMessages.tooLargeDecompressed(max));
      } else {
        const detail = `grpc: failed to decompress the received message: ${(err as Error).message}`;
        this.fail(GrpcStatus.INTERNAL, detail);
      }
      return undefined;
    }
  }

  #run(request: unknown): void {
    this.#handlerActive = true;
    let result: unknown;
    try {
      this.#config.admit?.(this.#method.def, this.#method.def.clientStreaming ? undefined : request);
      result = (this.#method.handler as (req: unknown, call: unknown) => unknown)(request, this);
    } catch (err) {
      return this.#onHandlerError(err);
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.#onHandlerDone(value),
        (err: unknown) => this.#onHandlerError(err),
      );
    } else {
      this.#onHandlerDone(result);
    }
  }

  #onHandlerDone(value: unknown): void {
    this.#handlerActive = false;
    if (this.#done) return;
    const def = this.#method.def;
    if (def.serverStreaming) {
      if (!this.#headersSent) return this.fail(GrpcStatus.OK, '');
      this.#done = true;
      this.#clearTimer();
      this.#stream.end();
      return;
    }
    let frame: Buffer;
    try {
      frame = def.response.encodeFrame(value);
    } catch (err) {
      return this.#onHandlerError(err);
    }
    this.#done = true;
    this.#clearTimer();
    const stream = this.#stream;
    if (stream.destroyed) return;
    this.#headersSent = true;
    stream.respond(this.#responseHeaders ?? GRPC_RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    stream.end(frame);
  }

  #onHandlerError(err: unknown): void {
    this.#handlerActive = false;
    if (err instanceof GrpcError) return this.fail(err.code, err.message, err.metadata);
    if (this.#done) return;
    this.#config.onHandlerError?.(err, this.path);
    // NB: the message only, never a stack; unmapped errors are bugs and reported above.
    this.fail(GrpcStatus.UNKNOWN, err instanceof Error ? err.message : String(err));
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}

function onStreamData(this: CallStream, chunk: Buffer): void {
  this[CALL]!.onData(chunk);
}
function onStreamEnd(this: CallStream): void {
  this[CALL]!.onEnd();
}
function onStreamClose(this: CallStream): void {
  this[CALL]!.onClose();
}
function onStreamDrain(this: CallStream): void {
  this[CALL]!.onDrain();
}
function onWantTrailers(this: CallStream): void {
  this[CALL]!.sendTrailers();
}
function endQueue(queue: RequestQueue<unknown>): void {
  queue.end();
}
function onDeadline(call: GrpcCall): void {
  call.expire();
}
