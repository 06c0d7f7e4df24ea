// Sends one snapshot to a peer on its own HTTP/2 connection, so a database transfer never queues
// behind (or in front of) the message stream's heartbeats. The body is pulled from the source only
// as fast as the peer takes it (write → drain), so memory stays at a few chunks whatever the size.
// Resolves once the peer has verified every chunk and its onSnapshot resolved; rejects otherwise.
import http2 from 'node:http2';
import type { ClientHttp2Stream } from 'node:http2';
import type { Message } from '../raft/index.ts';
import { TransportError, TransportErrorCode } from './errors.ts';
import { PeerProtocol } from './limits.ts';
import { hexId } from './log.ts';
import type { Peer } from './peer.ts';
import { RequestRefusal, RequestStatus, UNKNOWN_REMOTE_CODE } from './request-wire.ts';
import { encodeSnapshotBody, type ChunkTamper } from './snapshot-body.ts';

/** The bytes of a response body kept for the error message. */
const RESPONSE_TEXT_BYTES_MAX = 4096;

/** Options of `sendSnapshotTo`. */
export interface SendSnapshotOptions {
  chunkBytes: number;
  tamper?: ChunkTamper | undefined;
  /** Told of the connection so the transport can cut it on close. */
  track(session: http2.ClientHttp2Session): () => void;
}

/** Streams `msg` and the database `db` to `peer`; resolves when the peer accepted it. */
export async function sendSnapshotTo(
  peer: Peer,
  msg: Message,
  db: AsyncIterable<Uint8Array>,
  options: SendSnapshotOptions,
): Promise<void> {
  const url = peer.url;
  const session = http2.connect(url, peer.connectOptions(url));
  const untrack = options.track(session);
  session.on('error', noop);
  try {
    const stream = session.request(peer.requestHeaders(PeerProtocol.snapshotPath), { endStream: false });
    const response = awaitResponse(stream);
    let answered = false;
    response.then(
      () => (answered = true),
      () => (answered = true),
    );
    const records = encodeSnapshotBody(msg, db, { chunkBytes: options.chunkBytes, tamper: options.tamper });
    for await (const record of records) {
      if (answered || stream.destroyed) break;
      if (!stream.write(record)) await drained(stream, response);
    }
    if (!answered && !stream.destroyed) stream.end();
    const { status, text } = await response;
    if (status !== 200) {
      const message = text.trim();
      // NB: the answer is plain text, so the code is the one its status implies (410: removed).
      const remoteCode = status === RequestStatus.Removed ? RequestRefusal.Removed : UNKNOWN_REMOTE_CODE;
      throw new TransportError(
        TransportErrorCode.SnapshotRefused,
        `transport: member ${hexId(peer.id)} refused the snapshot (status ${status}): ${message}`,
        { remote: { status, remoteCode, remoteMessage: message } },
      );
    }
  } finally {
    session.destroy();
    untrack();
  }
}

/** The response's status and (a prefix of its) body text; rejects if the stream dies first. */
function awaitResponse(stream: ClientHttp2Stream): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let text = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk.slice(0, Math.max(0, RESPONSE_TEXT_BYTES_MAX - text.length));
    });
    stream.on('end', () => resolve({ status, text }));
    const fail = (why: string, cause?: Error): void => {
      reject(new TransportError(TransportErrorCode.Connection, `transport: ${why}`, { cause }));
    };
    stream.on('error', (err) => fail(`snapshot stream failed: ${err.message}`, err));
    stream.on('close', () => fail('snapshot stream closed before a response'));
  });
}

/** Waits until the stream wants more, or the peer answered (or the stream died) meanwhile. */
function drained(stream: ClientHttp2Stream, response: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
    response.then(done, done);
  });
}

function noop(): void {}
