// Accepting a plaintext HTTP/2 connection (h2c, prior knowledge) for the inner http2 server, with
// the client's bytes going through an AuthorityFixer only when they need it. A connection handed
// to node's http2 as a net.Socket is read natively; one handed over as a JS stream costs every
// request (node wraps it in a JSStreamSocket). So the acceptor holds the connection until the
// client's first header block shows which it needs:
//
//   client                          acceptor                              inner http2 server
//   preface, SETTINGS[, HEADERS] ─▶ held; with no header block in these first bytes:
//                                ◀─ SETTINGS (empty: "all defaults") — grpc-go sends no request
//                                   before the server's SETTINGS arrive
//   SETTINGS ACK, HEADERS ...    ─▶ held; that ACK is dropped (the inner server never sent those
//                                   SETTINGS), the first header block decides:
//      no scheme in :authority  ───▶ held bytes put back, socket handed over ──▶ native, from now
//      a scheme in :authority   ───▶ a FixingStream over the socket ─────────▶ fixed, from now
//
// The inner server's own SETTINGS follow later; a peer may send SETTINGS at any time. A client
// that sends its first request with its preface (node, h2load) is decided at once, unanswered.
// NB: a connection found fine by its first header block is never looked at again: a client that
// sends a URL as :authority only later gets the stream reset node's http2 gives it.
import type net from 'node:net';
import { Duplex } from 'node:stream';
import { AuthorityFixer } from './authority-fixer.ts';
import { CLIENT_PREFACE, emptySettingsFrame } from './h2-frames.ts';

/**
 * Longest a connection is held waiting for its first header block, in ms. Past it the connection
 * is served through a FixingStream, which decides later: correct, at the cost of a JS stream.
 * Clients that send no request at once rarely wait longer; a PING ends the wait sooner.
 */
export const H2C_HOLD_MS_MAX = 5000;

/** Bytes held at most while waiting; a client that sends more is served through a FixingStream. */
export const H2C_HOLD_BYTES_MAX = 256 * 1024;

/** Options of acceptH2c. */
export interface AcceptH2cOptions {
  /** Serves the socket natively (the bytes read so far are back in it). */
  readonly onNative: (socket: net.Socket) => void;
  /** Serves a stream that stands for the socket. */
  readonly onFixing: (stream: Duplex) => void;
  /** Aborted when the server closes: a held connection has no stream yet, it is dropped. */
  readonly signal: AbortSignal;
  readonly holdMs?: number;
}

/**
 * Takes a plaintext connection whose first bytes (`head`, already read from it) begin with the
 * HTTP/2 preface, and hands it over as its first header block requires.
 */
export function acceptH2c(socket: net.Socket, head: Buffer, options: AcceptH2cOptions): void {
  /** The preface read so far, until it is whole; no SETTINGS were sent before it is. */
  let preface: Buffer | undefined = Buffer.alloc(0);
  const fixer = new AuthorityFixer();
  const held: Buffer[] = [];
  let heldBytes = 0;
  let settled = false;
  let settingsSent = false;

  const settle = (wanted: 'native' | 'fixing'): void => {
    let how = wanted;
    settled = true;
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('end', onEnd);
    socket.off('close', onClose);
    options.signal.removeEventListener('abort', onAbort);
    if (preface !== undefined) {
      // No preface yet, so no SETTINGS of ours either: nothing for a fixer to do.
      held.push(preface);
      heldBytes += preface.length;
      how = 'native';
    }
    if (how === 'native') {
      if (heldBytes > 0) socket.unshift(held.length === 1 ? held[0]! : Buffer.concat(held));
      options.onNative(socket);
    } else {
      options.onFixing(new FixingStream(socket, fixer, held));
    }
  };
  const take = (chunk: Buffer): void => {
    if (preface !== undefined) {
      // The preface passes as it is; what follows it goes through the fixer.
      const all: Buffer = preface.length === 0 ? chunk : Buffer.concat([preface, chunk]);
      if (all.length < CLIENT_PREFACE.length) {
        preface = all;
        return;
      }
      if (!all.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) {
        // Not HTTP/2 after all: the inner server says so.
        preface = all;
        return settle('native');
      }
      preface = undefined;
      held.push(all.subarray(0, CLIENT_PREFACE.length));
      heldBytes += CLIENT_PREFACE.length;
      chunk = all.subarray(CLIENT_PREFACE.length);
    }
    for (const b of fixer.push(chunk)) {
      held.push(b);
      heldBytes += b.length;
    }
    if (fixer.transparent) settle('native');
    else if (fixer.mode === 'rewriting' || fixer.awaitsServer) settle('fixing');
    else if (heldBytes > H2C_HOLD_BYTES_MAX) settle('fixing');
  };
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while (!settled && (chunk = socket.read() as Buffer | null) !== null) take(chunk);
    if (settled || preface !== undefined || settingsSent) return;
    // What the client sent at once did not decide: it may be waiting for the server's SETTINGS.
    settingsSent = true;
    socket.write(emptySettingsFrame());
    fixer.expectSettingsAck();
  };
  // The client stopped sending: serve what it sent (the FixingStream passes the end on).
  const onEnd = (): void => {
    if (preface === undefined) settle('fixing');
    else socket.destroy();
  };
  const onClose = (): void => {
    settled = true;
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
  };
  const onAbort = (): void => {
    socket.destroy();
  };
  const timer = setTimeout(() => {
    if (!settled) settle('fixing');
  }, options.holdMs ?? H2C_HOLD_MS_MAX);

  socket.on('readable', onReadable);
  socket.on('end', onEnd);
  socket.once('close', onClose);
  if (options.signal.aborted) return onAbort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  take(head);
  onReadable();
}

/**
 * The client side of a connection, as the inner http2 server reads it: client bytes through the
 * fixer, server bytes straight to the socket.
 */
export class FixingStream extends Duplex {
  readonly #socket: net.Socket;

  constructor(socket: net.Socket, fixer: AuthorityFixer, first: readonly Buffer[]) {
    super({ allowHalfOpen: true });
    this.#socket = socket;
    for (const b of first) this.push(b);
    const onData = (chunk: Buffer): void => {
      let more = true;
      for (const b of fixer.push(chunk)) more = this.push(b);
      if (!more) socket.pause();
    };
    socket.on('data', onData);
    socket.once('end', () => this.push(null));
    socket.once('close', () => this.destroy());
    if (socket.readableEnded) this.push(null);
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error) => void): void {
    if (this.#socket.write(chunk)) callback();
    else this.#socket.once('drain', () => callback());
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error) => void): void {
    this.#socket.cork();
    let flushed = true;
    for (const { chunk } of chunks) flushed = this.#socket.write(chunk);
    this.#socket.uncork();
    if (flushed) callback();
    else this.#socket.once('drain', () => callback());
  }

  override _final(callback: (err?: Error) => void): void {
    this.#socket.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#socket.destroy();
    callback(err);
  }
}
