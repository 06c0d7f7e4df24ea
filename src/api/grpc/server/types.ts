// What the gRPC framework asks of a method (a path, a decoder, a framing encoder, a streaming
// shape) and what it gives a handler (the call: metadata, signal, writes). No etcd knowledge: any
// codec with `decode` and `encodeFrame` fits, so proto/'s service table plugs in as it is.
import type { IncomingHttpHeaders } from 'node:http2';
import type { GrpcMetadata } from './status.ts';

/** One RPC method as the server needs it. proto/'s MethodDescriptor satisfies this. */
export interface MethodDefinition<
  Req = unknown,
  Res = unknown,
  CS extends boolean = boolean,
  SS extends boolean = boolean,
> {
  /** `/package.Service/Method` */
  readonly path: string;
  readonly clientStreaming: CS;
  readonly serverStreaming: SS;
  readonly request: { decode(bytes: Uint8Array): Req };
  /** Encodes one response as an uncompressed gRPC length-prefixed message. */
  readonly response: { encodeFrame(msg: Res): Buffer };
}

/** What every handler is given about its call. */
export interface ServerCall {
  /** Request headers (metadata); `-bin` values are base64 as received. */
  readonly metadata: IncomingHttpHeaders;
  /** The `/package.Service/Method` path. */
  readonly path: string;
  /**
   * Aborts when the deadline (grpc-timeout) passes, the client cancels (RST_STREAM) or the
   * server shuts down; its reason is a GrpcError (DEADLINE_EXCEEDED or CANCELLED).
   */
  readonly signal: AbortSignal;
  /** Adds response headers; they go out with the first message or the status. */
  sendMetadata(metadata: GrpcMetadata): void;
  /** Adds trailers sent beside grpc-status. */
  setTrailers(metadata: GrpcMetadata): void;
}

/** A call whose handler streams responses. */
export interface ServerWritableCall<Res> extends ServerCall {
  /**
   * Sends one response; false when the stream's buffer is full (await `drained()` before more)
   * or the call is over (check `signal.aborted`).
   */
  write(msg: Res): boolean;
  /** Sends one response and waits while the stream's buffer is full. */
  send(msg: Res): Promise<void>;
  /** Resolves once the stream can take more writes (or the call has ended). */
  drained(): Promise<void>;
}

/** A unary handler: one request, one response (or a thrown GrpcError). */
export type UnaryHandler<Req, Res> = (request: Req, call: ServerCall) => Res | Promise<Res>;
/** One request, a stream of responses; the status is sent when the promise settles. */
export type ServerStreamingHandler<Req, Res> = (
  request: Req,
  call: ServerWritableCall<Res>,
) => void | Promise<void>;
/** A stream of requests, one response. */
export type ClientStreamingHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  call: ServerCall,
) => Res | Promise<Res>;
/** Streams both ways; the status is sent when the promise settles. */
export type BidiStreamingHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  call: ServerWritableCall<Res>,
) => void | Promise<void>;

/** The handler type that fits a method's streaming shape. */
export type HandlerFor<D> =
  D extends MethodDefinition<infer Req, infer Res, infer CS, infer SS>
    ? CS extends true
      ? SS extends true
        ? BidiStreamingHandler<Req, Res>
        : ClientStreamingHandler<Req, Res>
      : SS extends true
        ? ServerStreamingHandler<Req, Res>
        : UnaryHandler<Req, Res>
    : never;

/** Any handler, as the server stores it. */
export type AnyHandler = (request: never, call: never) => unknown;
