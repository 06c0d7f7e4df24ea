// A minimal HTTP/2 client connection (h2c, prior knowledge) for the load generator: requests go
// out as pre-encoded HEADERS+DATA frames, responses are read frame by frame without decoding
// headers. That keeps the driver far cheaper than node:http2 (no per-stream objects, no HPACK
// decoder): the request header block uses only "literal without indexing" representations, so one
// fixed block is valid for every request and the HPACK dynamic tables are never touched by us.
// A unary gRPC call succeeded iff its response carried a DATA payload (errors are trailers-only);
// callers verify the status separately on a sample (see verify.ts).
import net from 'node:net';

const FRAME_HEADER_BYTES = 9;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const T_DATA = 0x0;
const T_HEADERS = 0x1;
const T_RST_STREAM = 0x3;
const T_SETTINGS = 0x4;
const T_PING = 0x6;
const T_GOAWAY = 0x7;
const T_WINDOW_UPDATE = 0x8;
const F_END_STREAM = 0x1;
const F_ACK = 0x1;
const F_END_HEADERS = 0x4;
const F_PADDED = 0x8;
/** Our receive windows, per stream and per connection: as large as HTTP/2 allows. */
const RECV_WINDOW_BYTES = 0x7fffffff;
/** Received bytes after which the connection window is topped up again. */
const WINDOW_REFILL_BYTES = 1 << 24;
/** The peer's frame size until it says otherwise (RFC 9113 §6.5.2). */
const DEFAULT_MAX_FRAME_BYTES = 16_384;

/** What the connection tells a stream's owner. */
export interface StreamHandler {
  /** A DATA payload (only called for streams opened with `wantData`). */
  onData?(payload: Buffer): void;
  /** The stream ended: `dataBytes` of DATA were received; `reset` when it was reset. */
  onEnd(dataBytes: number, reset: boolean): void;
}

interface StreamState {
  handler: StreamHandler;
  dataBytes: number;
  wantData: boolean;
}

/** HPACK string literal, no Huffman coding (lengths < 127 only). */
function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  if (bytes.length >= 127) throw new Error(`h2-conn: header value too long: ${s}`);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** The header block of a gRPC POST to `path`: static-table indexes and literals only. */
export function grpcHeaderBlock(authority: string, path: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static indexes 3 and 6)
    Buffer.from([0x04]), hpackString(path), // :path, literal without indexing, name index 4
    Buffer.from([0x01]), hpackString(authority), // :authority, name index 1
    Buffer.from([0x0f, 0x10]), hpackString('application/grpc'), // content-type, name index 31
    Buffer.from([0x00]), hpackString('te'), hpackString('trailers'),
  ]);
}

function frameHeader(buf: Buffer, at: number, o: { length: number; type: number; flags: number; streamId: number }): void {
  buf.writeUIntBE(o.length, at, 3);
  buf[at + 3] = o.type;
  buf[at + 4] = o.flags;
  buf.writeUInt32BE(o.streamId, at + 5);
}

/**
 * A request template: one HEADERS and one DATA frame with the stream id left blank. Callers copy
 * it (`instantiate`), may patch body bytes at `bodyOffset`, and pass it to `H2Conn.request`.
 */
export class RequestTemplate {
  readonly bytes: Buffer;
  /** Where the gRPC message (its 5-byte prefix first) starts in `bytes`. */
  readonly bodyOffset: number;
  readonly bodyBytes: number;

  constructor(headerBlock: Buffer, body: Buffer, options: { endStream: boolean; maxFrameBytes?: number }) {
    const maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (headerBlock.length > maxFrame) throw new Error('h2-conn: header block larger than a frame');
    if (body.length > maxFrame) throw new Error(`h2-conn: request body over ${maxFrame} bytes is not supported`);
    this.bodyBytes = body.length;
    const bytes = Buffer.alloc(FRAME_HEADER_BYTES * 2 + headerBlock.length + body.length);
    frameHeader(bytes, 0, { length: headerBlock.length, type: T_HEADERS, flags: F_END_HEADERS, streamId: 0 });
    headerBlock.copy(bytes, FRAME_HEADER_BYTES);
    const dataAt = FRAME_HEADER_BYTES + headerBlock.length;
    const flags = options.endStream ? F_END_STREAM : 0;
    frameHeader(bytes, dataAt, { length: body.length, type: T_DATA, flags, streamId: 0 });
    body.copy(bytes, dataAt + FRAME_HEADER_BYTES);
    this.bytes = bytes;
    this.bodyOffset = dataAt + FRAME_HEADER_BYTES;
  }

  /** A fresh copy to patch and hand to `H2Conn.request` (which fills in the stream id). */
  instantiate(): Buffer {
    const out = Buffer.allocUnsafe(this.bytes.length);
    this.bytes.copy(out);
    return out;
  }
}

/** One HTTP/2 connection. Not a general client: enough for gRPC load against a trusted server. */
export class H2Conn {
  readonly #socket: net.Socket;
  readonly #streams = new Map<number, StreamState>();
  #nextStreamId = 1;
  #inbox: Buffer = Buffer.alloc(0);
  #out: Buffer[] = [];
  #flushScheduled = false;
  #sendWindow = 65_535;
  #recvSinceRefill = 0;
  #peerMaxStreams = Number.POSITIVE_INFINITY;
  #closed = false;
  #error: Error | undefined;
  /** Sends waiting for connection window. */
  readonly #blocked: { frames: Buffer; dataBytes: number }[] = [];
  readonly #ready: Promise<void>;
  #onSettingsSeen: (() => void) | undefined;
  readonly #settingsSeen = new Promise<void>((resolve) => (this.#onSettingsSeen = resolve));

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    let settled = false;
    this.#ready = new Promise((resolve, reject) => {
      socket.once('connect', () => {
        settled = true;
        resolve();
      });
      socket.once('error', (err) => {
        if (!settled) reject(err);
      });
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('h2-conn: connection closed')));
    const settings = Buffer.alloc(FRAME_HEADER_BYTES + 12);
    frameHeader(settings, 0, { length: 12, type: T_SETTINGS, flags: 0, streamId: 0 });
    settings.writeUInt16BE(0x2, 9); // ENABLE_PUSH = 0
    settings.writeUInt32BE(0, 11);
    settings.writeUInt16BE(0x4, 15); // INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(RECV_WINDOW_BYTES, 17);
    socket.write(Buffer.concat([PREFACE, settings, windowUpdate(0, RECV_WINDOW_BYTES - 65_535)]));
  }

  /** Connects to `host:port`. */
  static async connect(endpoint: string): Promise<H2Conn> {
    const { host, port } = splitEndpoint(endpoint);
    const conn = new H2Conn(net.connect({ host, port }));
    await conn.#ready;
    // The server's SETTINGS (its stream limit) come first on the connection.
    await Promise.race([conn.#settingsSeen, new Promise((r) => setTimeout(r, 1000).unref())]);
    if (conn.#error !== undefined) throw conn.#error;
    return conn;
  }

  /** Streams the server lets us open at once (its SETTINGS_MAX_CONCURRENT_STREAMS). */
  get peerMaxStreams(): number {
    return this.#peerMaxStreams;
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  /** Set when the connection failed; no more requests complete. */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Opens a stream with a prepared request (from `RequestTemplate.instantiate`, its stream id is
   * filled in here). Returns the stream id.
   */
  request(frames: Buffer, dataBytes: number, handler: StreamHandler, options: { wantData?: boolean } = {}): number {
    const streamId = this.#nextStreamId;
    this.#nextStreamId += 2;
    frames.writeUInt32BE(streamId, 5);
    frames.writeUInt32BE(streamId, frames.readUIntBE(0, 3) + FRAME_HEADER_BYTES + 5);
    this.#streams.set(streamId, { handler, dataBytes: 0, wantData: options.wantData ?? false });
    this.#send(frames, dataBytes);
    return streamId;
  }

  /** Sends a further DATA frame on an open stream (client streaming). */
  sendData(streamId: number, payload: Buffer, endStream: boolean): void {
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
    frameHeader(frame, 0, { length: payload.length, type: T_DATA, flags: endStream ? F_END_STREAM : 0, streamId });
    payload.copy(frame, FRAME_HEADER_BYTES);
    this.#send(frame, payload.length);
  }

  /** Closes the socket; open streams end as reset. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#failStreams();
  }

  #send(frames: Buffer, dataBytes: number): void {
    if (this.#closed) return;
    if (this.#blocked.length > 0 || dataBytes > this.#sendWindow) {
      this.#blocked.push({ frames, dataBytes });
      return;
    }
    this.#sendWindow -= dataBytes;
    this.#queue(frames);
  }

  #queue(frames: Buffer): void {
    this.#out.push(frames);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // One socket write per turn of the event loop, however many requests were issued in it.
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed || this.#out.length === 0) return;
    const out = this.#out.length === 1 ? this.#out[0]! : Buffer.concat(this.#out);
    this.#out = [];
    this.#socket.write(out);
  }

  #onData(chunk: Buffer): void {
    let buf = this.#inbox.length === 0 ? chunk : Buffer.concat([this.#inbox, chunk]);
    let at = 0;
    while (buf.length - at >= FRAME_HEADER_BYTES) {
      const length = buf.readUIntBE(at, 3);
      if (buf.length - at < FRAME_HEADER_BYTES + length) break;
      const type = buf[at + 3]!;
      const flags = buf[at + 4]!;
      const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
      at += FRAME_HEADER_BYTES + length;
      this.#onFrame(type, flags, streamId, payload);
    }
    buf = buf.subarray(at);
    // NB: copy a leftover partial frame: the chunk's memory belongs to the socket.
    this.#inbox = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }

  #onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    switch (type) {
      case T_DATA:
        return this.#onDataFrame(flags, streamId, payload);
      case T_HEADERS:
        if ((flags & F_END_STREAM) !== 0) this.#endStream(streamId, false);
        return;
      case T_RST_STREAM:
        return this.#endStream(streamId, true);
      case T_SETTINGS:
        if ((flags & F_ACK) === 0) this.#onSettings(payload);
        return;
      case T_PING:
        if ((flags & F_ACK) === 0) {
          const pong = Buffer.alloc(FRAME_HEADER_BYTES + 8);
          frameHeader(pong, 0, { length: 8, type: T_PING, flags: F_ACK, streamId: 0 });
          payload.copy(pong, FRAME_HEADER_BYTES);
          this.#queue(pong);
        }
        return;
      case T_GOAWAY:
        return this.#fail(new Error(`h2-conn: GOAWAY, error code ${payload.readUInt32BE(4)}`));
      case T_WINDOW_UPDATE:
        if (streamId === 0) {
          this.#sendWindow += payload.readUInt32BE(0) & 0x7fffffff;
          this.#unblock();
        }
        return;
      default:
        return; // PRIORITY, CONTINUATION (header blocks are not decoded), unknown types
    }
  }

  #onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    this.#recvSinceRefill += payload.length;
    if (this.#recvSinceRefill >= WINDOW_REFILL_BYTES) {
      this.#queue(windowUpdate(0, this.#recvSinceRefill));
      this.#recvSinceRefill = 0;
    }
    const stream = this.#streams.get(streamId);
    if (stream !== undefined) {
      let data = payload;
      if ((flags & F_PADDED) !== 0) data = payload.subarray(1, payload.length - payload[0]!);
      stream.dataBytes += data.length;
      // NB: stream windows are never refilled: 2 GiB per stream is more than any run receives.
      if (stream.wantData) stream.handler.onData?.(data);
    }
    if ((flags & F_END_STREAM) !== 0) this.#endStream(streamId, false);
  }

  #onSettings(payload: Buffer): void {
    for (let i = 0; i + 6 <= payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      if (id === 0x3) this.#peerMaxStreams = value;
    }
    this.#onSettingsSeen?.();
    const ack = Buffer.alloc(FRAME_HEADER_BYTES);
    frameHeader(ack, 0, { length: 0, type: T_SETTINGS, flags: F_ACK, streamId: 0 });
    this.#queue(ack);
  }

  #unblock(): void {
    while (this.#blocked.length > 0 && this.#blocked[0]!.dataBytes <= this.#sendWindow) {
      const next = this.#blocked.shift()!;
      this.#sendWindow -= next.dataBytes;
      this.#queue(next.frames);
    }
  }

  #endStream(streamId: number, reset: boolean): void {
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return;
    this.#streams.delete(streamId);
    stream.handler.onEnd(stream.dataBytes, reset);
  }

  #fail(err: Error): void {
    if (this.#error === undefined && !this.#closed) this.#error = err;
    this.#closed = true;
    this.#socket.destroy();
    this.#failStreams();
  }

  #failStreams(): void {
    const open = [...this.#streams.values()];
    this.#streams.clear();
    for (const s of open) s.handler.onEnd(s.dataBytes, true);
  }
}

function windowUpdate(streamId: number, increment: number): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + 4);
  frameHeader(frame, 0, { length: 4, type: T_WINDOW_UPDATE, flags: 0, streamId });
  frame.writeUInt32BE(increment, FRAME_HEADER_BYTES);
  return frame;
}

/** `host:port` (IPv6 hosts in brackets) → parts. */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const stripped = endpoint.replace(/^https?:\/\//, '');
  const colon = stripped.lastIndexOf(':');
  if (colon <= 0) throw new Error(`bench: endpoint "${endpoint}" is not HOST:PORT`);
  const port = Number(stripped.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new Error(`bench: endpoint "${endpoint}": bad port`);
  return { host: stripped.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}
