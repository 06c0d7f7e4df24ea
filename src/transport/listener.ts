// One listening peer URL: HTTP/2 (Raft streams, snapshots) and HTTP/1.1 (etcd's /members and
// /version) on the same port. Plaintext connections are sniffed for the HTTP/2 preface (h2c with
// prior knowledge), TLS ones dispatched by ALPN — the approach of api/grpc/server. close() cuts
// every connection at once: peers reconnect, and Raft tolerates the messages lost meanwhile.
import http from 'node:http';
import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';

/** TLS material for a listener, as tls.createServer takes it. */
export interface ListenerTls {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer | undefined;
  /** Require and verify a client certificate (etcd's --peer-client-cert-auth). */
  clientCertAuth: boolean;
}

/** What a listener hands its connections' requests to. */
export interface ListenerHandlers {
  /** An HTTP/2 request (raw stream). */
  onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void;
  /** An HTTP/1.1 request. */
  onHttp1(req: http.IncomingMessage, res: http.ServerResponse): void;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** Bytes of the preface that tell HTTP/2 from every HTTP/1.1 method ("PRI "). */
const PREFACE_SNIFF_BYTES = 4;
/**
 * HTTP/2 receive windows, in bytes. The 64 KiB defaults cap a snapshot at one window per round
 * trip; larger windows let a peer send this much ahead of what the receiver has read, which is
 * also the memory a slow reader lets a sender pin on this side (per stream, per connection).
 */
const STREAM_WINDOW_BYTES = 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 4 * 1024 * 1024;

/** A listening socket serving the peer protocol. */
export class PeerListener {
  readonly #h2 = http2.createServer({ settings: { initialWindowSize: STREAM_WINDOW_BYTES } });
  readonly #h1 = http.createServer();
  readonly #server: net.Server;
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #sockets = new Set<net.Socket>();
  #closing: Promise<void> | undefined;

  constructor(handlers: ListenerHandlers, tlsOptions?: ListenerTls) {
    this.#h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      stream.on('error', noop);
      handlers.onStream(stream, headers);
    });
    this.#h2.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.on('error', noop);
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      session.once('close', () => this.#sessions.delete(session));
      if (this.#closing !== undefined) session.destroy();
    });
    this.#h1.on('request', (req, res) => handlers.onHttp1(req, res));
    // NB: the inner servers never listen; 'listening' starts http/1.1 connection bookkeeping.
    this.#h1.emit('listening');
    this.#server = tlsOptions === undefined ? this.#plainServer() : this.#tlsServer(tlsOptions);
  }

  /** Listens; resolves with the bound port (0 picks a free one). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops listening and cuts every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      if (this.#server.listening) this.#server.close(() => resolve());
      else resolve();
    });
    for (const session of this.#sessions) session.destroy();
    this.#h1.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    this.#h1.close();
    await stopped;
  }

  #plainServer(): net.Server {
    return net.createServer({ noDelay: true }, (socket) => {
      if (!this.#track(socket)) return;
      socket.once('readable', () => this.#sniff(socket));
    });
  }

  #tlsServer(opts: ListenerTls): net.Server {
    const server = tls.createServer({
      key: opts.key,
      cert: opts.cert,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      requestCert: opts.clientCertAuth,
      rejectUnauthorized: opts.clientCertAuth,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      if (!this.#track(socket)) return;
      socket.setNoDelay(true);
      (socket.alpnProtocol === 'h2' ? this.#h2 : this.#h1).emit('connection', socket);
    });
    server.on('tlsClientError', noop);
    return server;
  }

  /** Tracks a socket for close(); false (and the socket destroyed) when closing already. */
  #track(socket: net.Socket): boolean {
    socket.on('error', noop);
    if (this.#closing !== undefined) {
      socket.destroy();
      return false;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    return true;
  }

  /** Reads enough of a plaintext connection to tell the HTTP/2 preface from HTTP/1.1. */
  #sniff(socket: net.Socket, seen?: Buffer): void {
    let head = seen;
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
    }
    const n = Math.min(head?.length ?? 0, PREFACE_SNIFF_BYTES);
    const isH2 = head === undefined || head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isH2 && n < PREFACE_SNIFF_BYTES) {
      if (!socket.destroyed) socket.once('readable', () => this.#sniff(socket, head));
      return;
    }
    socket.unshift(head!);
    (isH2 ? this.#h2 : this.#h1).emit('connection', socket);
  }
}

function noop(): void {}
