// A lean gRPC server on node:http2 (no grpc-js): one port for gRPC, plain HTTP/2 and HTTP/1.1.
// Plaintext connections are sniffed for the HTTP/2 preface (h2c with prior knowledge; see
// h2c-connection.ts for the ones whose :authority is a URL) and TLS ones dispatched by ALPN, then
// handed to an inner http2 server (raw 'stream' events, no compat layer for gRPC) or an inner
// http/1.1 server. close() drains in-flight calls up to a deadline.
import http from 'node:http';
import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { GrpcCall, respondTrailersOnly } from './call.ts';
import type { CallConfig, RegisteredMethod } from './call.ts';
import { acceptH2c } from './h2c-connection.ts';
import { GrpcMessages, GrpcStatus, parseGrpcTimeout } from './status.ts';
import type { AnyHandler, HandlerFor, MethodDefinition } from './types.ts';

/** A handler for non-gRPC requests, called with node's http/1.1 or http2-compat objects. */
export type HttpHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** TLS material: PEM strings or buffers, as tls.createSecureContext takes them. */
export interface GrpcTlsOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** CAs to verify client certificates with, when `requestCert`. */
  readonly ca?: string | Buffer;
  readonly requestCert?: boolean;
}

/** Server settings. */
export interface GrpcServerOptions {
  /**
   * Largest request message accepted, in bytes. etcd allows max-request-bytes (1.5 MiB) plus
   * 512 KiB of gRPC overhead; larger messages get RESOURCE_EXHAUSTED before they are buffered.
   */
  readonly maxReceiveMessageBytes?: number;
  /** Serve TLS (h2 and http/1.1 by ALPN) instead of plaintext. */
  readonly tls?: GrpcTlsOptions;
  /** Told of handler errors that are not GrpcErrors; they reach clients as UNKNOWN. */
  readonly onHandlerError?: (err: unknown, path: string) => void;
  /**
   * Checked before every handler runs, with the decoded request (undefined for client streams);
   * a GrpcError it throws is the call's answer (etcd's interceptors, e.g. learners' limits).
   */
  readonly admit?: (def: MethodDefinition, request: unknown) => void;
}

/** Default request size cap: etcd's 1.5 MiB max-request-bytes plus 512 KiB, in bytes. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 1.5 * 1024 * 1024 + 512 * 1024;

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** Bytes of the preface that tell HTTP/2 from every HTTP/1.1 method ("PRI "). */
const PREFACE_SNIFF_BYTES = 4;

/** The server. Register methods and HTTP handlers, then `listen`; `close` is idempotent. */
export class GrpcServer {
  readonly #config: CallConfig;
  readonly #methods = new Map<string, RegisteredMethod>();
  readonly #services = new Set<string>();
  readonly #httpHandlers: { prefix: string; handler: HttpHandler }[] = [];
  readonly #h2 = http2.createServer();
  readonly #h1 = http.createServer();
  readonly #listener: net.Server;
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #sockets = new Set<net.Socket>();
  /** Aborted by close(): drops connections still held by acceptH2c. */
  readonly #closed = new AbortController();
  #closing: Promise<void> | undefined;

  constructor(options: GrpcServerOptions = {}) {
    this.#config = {
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
      onHandlerError: options.onHandlerError,
      admit: options.admit,
    };
    this.#h2.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) =>
        this.#onStream(stream, headers, raw),
    );
    this.#h2.on('session', (session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      if (this.#closing !== undefined) session.close();
    });
    this.#h1.on('request', (req, res) => this.#onHttp(req, res));
    // NB: the inner servers never listen themselves; 'listening' makes the http/1.1 one track its
    // connections (closeIdleConnections, header and request timeouts) as a listening server does.
    this.#h1.emit('listening');
    this.#listener = options.tls === undefined ? this.#plainListener() : this.#tlsListener(options.tls);
  }

  /** Registers a method (a proto/ MethodDescriptor fits) and its handler. */
  addMethod<D extends MethodDefinition<unknown, unknown>>(def: D, handler: HandlerFor<D>): void {
    const path = def.path;
    if (this.#methods.has(path)) throw new Error(`grpc: method ${path} registered twice`);
    this.#methods.set(path, { def: def as MethodDefinition, handler: handler as AnyHandler });
    this.#services.add(path.slice(1, path.indexOf('/', 1)));
  }

  /** Registers handlers for some methods of a service table (`services['etcdserverpb.KV']`). */
  addService<S extends Record<string, MethodDefinition<unknown, unknown>>>(
    service: S,
    handlers: { [K in keyof S]?: HandlerFor<S[K]> },
  ): void {
    for (const name of Object.keys(handlers)) {
      const def = service[name];
      if (def === undefined) throw new Error(`grpc: no method ${name} in this service`);
      this.addMethod(def, handlers[name] as HandlerFor<typeof def>);
    }
    // A service with no handlers is still "known": its methods answer "unknown method".
    const any = Object.values(service)[0];
    if (any !== undefined) this.#services.add(any.path.slice(1, any.path.indexOf('/', 1)));
  }

  /** Serves non-gRPC requests whose path equals `prefix`, or starts with it when it ends in '/'. */
  addHttpHandler(prefix: string, handler: HttpHandler): void {
    this.#httpHandlers.push({ prefix, handler });
  }

  /** Starts listening; resolves with the bound port (pass 0 for a free one). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#listener.once('error', reject);
      this.#listener.listen(port, host, () => {
        this.#listener.off('error', reject);
        resolve((this.#listener.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Stops accepting connections, lets in-flight calls finish for up to `graceMs`, then cuts what
   * is left. Idempotent: every call returns the same promise.
   */
  close(graceMs = 5000): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<void> {
    const listening = this.#listener.listening;
    this.#closed.abort();
    const stopped = new Promise<void>((resolve) => {
      if (listening) this.#listener.close(() => resolve());
      else resolve();
    });
    for (const session of this.#sessions) session.close(); // GOAWAY; open streams may finish
    this.#h1.closeIdleConnections();
    const drained = this.#whenDrained();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([drained, deadline]);
    clearTimeout(timer);
    for (const session of this.#sessions) session.destroy();
    this.#h1.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    this.#h1.close(); // stops its connection-checking timer
    await stopped;
  }

  async #whenDrained(): Promise<void> {
    while (this.#sessions.size > 0 || this.#sockets.size > 0) {
      this.#h1.closeIdleConnections();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  #plainListener(): net.Server {
    return net.createServer({ noDelay: true }, (socket) => {
      this.#track(socket);
      socket.once('readable', () => this.#sniff(socket));
    });
  }

  #tlsListener(opts: GrpcTlsOptions): net.Server {
    const server = tls.createServer({
      key: opts.key,
      cert: opts.cert,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      requestCert: opts.requestCert ?? false,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    server.on('secureConnection', (socket) => {
      this.#track(socket);
      socket.setNoDelay(true);
      if (socket.alpnProtocol === 'h2') this.#h2.emit('connection', socket);
      else this.#h1.emit('connection', socket);
    });
    server.on('tlsClientError', noop);
    return server;
  }

  #track(socket: net.Socket): void {
    socket.on('error', noop);
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** Reads enough of a plaintext connection to tell the HTTP/2 preface from HTTP/1.1. */
  #sniff(socket: net.Socket, seen?: Buffer): void {
    let head = seen;
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
    }
    if (head === undefined || head.length === 0) {
      if (!socket.destroyed) socket.once('readable', () => this.#sniff(socket, head));
      return;
    }
    const n = Math.min(head.length, PREFACE_SNIFF_BYTES);
    const isH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isH2 && head.length < PREFACE_SNIFF_BYTES) {
      socket.once('readable', () => this.#sniff(socket, head));
      return;
    }
    if (!isH2) {
      socket.unshift(head);
      this.#h1.emit('connection', socket);
      return;
    }
    // NB: h2c clients may put a URL in :authority (grpc-go does, given one), which node's http2
    // refuses; acceptH2c fixes such connections on their way in and hands the rest over natively.
    acceptH2c(socket, head, {
      onNative: (s) => this.#h2.emit('connection', s),
      onFixing: (stream) => this.#h2.emit('connection', stream),
      signal: this.#closed.signal,
    });
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
    const contentType = headers['content-type'];
    if (contentType === undefined || !contentType.startsWith('application/grpc')) {
      const req = new http2.Http2ServerRequest(stream, headers, {}, rawHeaders);
      const res = new http2.Http2ServerResponse(stream);
      stream.on('error', noop);
      this.#onHttp(req, res);
      return;
    }
    const path = headers[':path'] ?? '';
    const method = this.#methods.get(path);
    if (method === undefined) return this.#unknownMethod(stream, path);
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity' && encoding !== 'gzip') {
      const code = GrpcStatus.UNIMPLEMENTED;
      return respondTrailersOnly(stream, code, GrpcMessages.noDecompressor(encoding as string));
    }
    const timeoutHeader = headers['grpc-timeout'] as string | undefined;
    let timeoutMs: number | undefined;
    if (timeoutHeader !== undefined) {
      timeoutMs = parseGrpcTimeout(timeoutHeader);
      if (Number.isNaN(timeoutMs)) {
        const code = GrpcStatus.INTERNAL;
        return respondTrailersOnly(stream, code, GrpcMessages.badTimeout(timeoutHeader));
      }
    }
    new GrpcCall(stream, headers, method, this.#config, timeoutMs);
  }

  #unknownMethod(stream: ServerHttp2Stream, path: string): void {
    const slash = path.lastIndexOf('/');
    if (path.charAt(0) !== '/' || slash <= 0) {
      return respondTrailersOnly(stream, GrpcStatus.UNIMPLEMENTED, GrpcMessages.malformedMethod(path));
    }
    const service = path.slice(1, slash);
    const message = this.#services.has(service)
      ? GrpcMessages.unknownMethod(path.slice(slash + 1), service)
      : GrpcMessages.unknownService(service);
    respondTrailersOnly(stream, GrpcStatus.UNIMPLEMENTED, message);
  }

  #onHttp(
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    for (const { prefix, handler } of this.#httpHandlers) {
      if (path === prefix || (prefix.endsWith('/') && path.startsWith(prefix))) {
        try {
          handler(req, res);
        } catch (err) {
          this.#config.onHandlerError?.(err, path);
          if (!res.headersSent) res.writeHead(500).end();
        }
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
  }
}

function noop(): void {}
