// The receiving side of the peer protocol: admits message streams and snapshot requests whose
// headers name this cluster, this member and a known sender (a different cluster id is refused
// with 412, so two clusters never merge; a sender removed from the cluster with 410, so it learns
// it is gone and stops), decodes frames into batches for the member, hands peer requests to the
// request receiver, and answers etcd's /members and /version. At most one message stream per
// sender: a newer one replaces it.
import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type http from 'node:http';
import { MessageType, type Message, type NodeId } from '../raft/index.ts';
import { FrameDecoder } from './codec.ts';
import { answerEndpoint, type EndpointContext } from './endpoints.ts';
import { TransportError, TransportErrorCode, isTransportError } from './errors.ts';
import { PeerProtocol, type TransportLimits } from './limits.ts';
import type { ListenerHandlers } from './listener.ts';
import { RequestReceiver, answerError, type PeerRequestHandler } from './request-receiver.ts';
import { RequestRefusal, RequestStatus, requestMethodOf } from './request-wire.ts';
import { SnapshotReader } from './snapshot-body.ts';
import { type TransportLog, hexId } from './log.ts';

const TEXT = { 'content-type': 'text/plain; charset=utf-8' } as const;

/** What the receiver needs from the transport. */
export interface ReceiverContext extends EndpointContext {
  memberId: NodeId;
  limits: TransportLimits;
  log: TransportLog;
  isPeer(id: NodeId): boolean;
  /** True for a member id removed from the cluster (asked only about senders that are not peers). */
  isRemoved(id: NodeId): boolean;
  onMessages(batch: Message[]): void;
  onSnapshot(msg: Message, body: AsyncIterable<Uint8Array>): Promise<void>;
  /** The member's handler of peer requests; none: requests are answered 501. */
  onPeerRequest: PeerRequestHandler | undefined;
}

/** Why a request is turned away: its status, error-body code and reason. */
interface Refusal {
  status: number;
  code: RequestRefusal;
  reason: string;
}

/** Handles the requests of every listener of one transport. */
export class Receiver implements ListenerHandlers {
  readonly #ctx: ReceiverContext;
  readonly #streams = new Map<NodeId, ServerHttp2Stream>();
  readonly #snapshots = new Set<ServerHttp2Stream>();
  readonly #requests: RequestReceiver;
  /** Removed senders already logged at warn (a removed etcd member redials every 100 ms). */
  readonly #removedLogged = new Set<NodeId>();

  constructor(ctx: ReceiverContext) {
    this.#ctx = ctx;
    this.#requests = new RequestReceiver({
      clusterId: ctx.clusterId,
      limits: ctx.limits,
      log: ctx.log,
      handler: ctx.onPeerRequest,
    });
  }

  onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const path = headers[':path'] ?? '/';
    const method = headers[':method'] ?? 'GET';
    if (path === PeerProtocol.streamPath || path === PeerProtocol.snapshotPath) {
      const from = this.#admit(stream, method, headers);
      if (from === undefined) return;
      if (path === PeerProtocol.streamPath) this.#acceptMessages(stream, from);
      else void this.#receiveSnapshot(stream, from);
      return;
    }
    const requestMethod = requestMethodOf(stripQuery(path));
    if (requestMethod !== undefined) {
      const from = this.#admitRequest(stream, method, headers);
      if (from !== undefined) this.#requests.receive(stream, from, requestMethod, headers);
      return;
    }
    const res = answerEndpoint(method, stripQuery(path), this.#ctx);
    respond(stream, res.status, res.headers, res.body);
  }

  onHttp1(req: http.IncomingMessage, res: http.ServerResponse): void {
    const answer = answerEndpoint(req.method ?? 'GET', stripQuery(req.url ?? '/'), this.#ctx);
    res.writeHead(answer.status, answer.headers).end(answer.body);
  }

  /** Cuts the streams from a peer that left the cluster. */
  dropPeer(id: NodeId): void {
    this.#streams.get(id)?.close(http2.constants.NGHTTP2_CANCEL);
    this.#streams.delete(id);
  }

  /** Cuts every incoming stream and cancels every peer request. */
  close(): void {
    for (const stream of this.#streams.values()) stream.close(http2.constants.NGHTTP2_CANCEL);
    for (const stream of this.#snapshots) stream.close(http2.constants.NGHTTP2_CANCEL);
    this.#streams.clear();
    this.#snapshots.clear();
    this.#requests.close();
  }

  /** Checks a stream's headers; answers (in plain text) and returns undefined when refused. */
  #admit(stream: ServerHttp2Stream, method: string, headers: IncomingHttpHeaders): NodeId | undefined {
    const from = this.#check(method, headers, 'stream');
    if (typeof from === 'bigint') return from;
    const answer = { ...TEXT, [PeerProtocol.clusterIdHeader]: hexId(this.#ctx.clusterId) };
    respond(stream, from.status, answer, `${from.reason}\n`);
    return undefined;
  }

  /** Checks a peer request's headers; answers (an error body) and returns undefined when refused. */
  #admitRequest(stream: ServerHttp2Stream, method: string, headers: IncomingHttpHeaders): NodeId | undefined {
    const from = this.#check(method, headers, 'request');
    if (typeof from === 'bigint') return from;
    const { status, code, reason } = from;
    answerError(stream, { status, code, message: reason, clusterId: this.#ctx.clusterId });
    return undefined;
  }

  /** Whether a request may come in: the sender, or why not (logged when it is a surprise). */
  #check(method: string, headers: IncomingHttpHeaders, what: 'stream' | 'request'): NodeId | Refusal {
    const local = this.#ctx.clusterId;
    if (method !== 'POST') {
      return { status: RequestStatus.NotPost, code: RequestRefusal.Malformed, reason: 'Method Not Allowed' };
    }
    const from = parseId(headers[PeerProtocol.fromHeader]);
    const to = parseId(headers[PeerProtocol.toHeader]);
    const cluster = parseId(headers[PeerProtocol.clusterIdHeader]);
    if (from === undefined || to === undefined || cluster === undefined) {
      const reason = 'missing or malformed member or cluster id headers';
      return { status: RequestStatus.Malformed, code: RequestRefusal.Malformed, reason };
    }
    if (cluster !== local) {
      const ids = `(local ${hexId(local)}, remote ${hexId(cluster)})`;
      const line = `transport: refused a ${what} from member ${hexId(from)}: cluster ID mismatch ${ids}`;
      this.#ctx.log('warn', line);
      const reason = what === 'stream' ? 'cluster ID mismatch' : `cluster ID mismatch ${ids}`;
      return { status: RequestStatus.Mismatch, code: RequestRefusal.ClusterMismatch, reason };
    }
    if (to !== this.#ctx.memberId) {
      const self = hexId(this.#ctx.memberId);
      const why = `it is for member ${hexId(to)}, this is ${self}`;
      this.#ctx.log('warn', `transport: refused a ${what} from member ${hexId(from)}: ${why}`);
      const reason = 'member ID mismatch';
      return { status: RequestStatus.Mismatch, code: RequestRefusal.MemberMismatch, reason };
    }
    if (!this.#ctx.isPeer(from)) {
      if (this.#ctx.isRemoved(from)) return this.#refuseRemoved(from, what);
      this.#ctx.log('warn', `transport: refused a ${what} from member ${hexId(from)}: not a known peer`);
      const reason = 'sender not found';
      return { status: RequestStatus.UnknownSender, code: RequestRefusal.UnknownSender, reason };
    }
    return from;
  }

  /** A removed member is told so (410), not merely that it is unknown (404): it will never be known again. */
  #refuseRemoved(from: NodeId, what: 'stream' | 'request'): Refusal {
    const level = this.#removedLogged.has(from) ? 'debug' : 'warn';
    this.#removedLogged.add(from);
    this.#ctx.log(level, `transport: refused a ${what} from member ${hexId(from)}: it was removed from the cluster`);
    const reason = `removed member: member ${hexId(from)} has been permanently removed from the cluster`;
    return { status: RequestStatus.Removed, code: RequestRefusal.Removed, reason };
  }

  #acceptMessages(stream: ServerHttp2Stream, from: NodeId): void {
    this.#streams.get(from)?.close(http2.constants.NGHTTP2_CANCEL);
    this.#streams.set(from, stream);
    stream.once('close', () => {
      if (this.#streams.get(from) === stream) this.#streams.delete(from);
    });
    stream.respond({ ':status': 200, [PeerProtocol.clusterIdHeader]: hexId(this.#ctx.clusterId) });
    const decoder = new FrameDecoder(this.#ctx.limits.frameBytesMax);
    stream.on('data', (chunk: Buffer) => {
      let batch: Message[];
      try {
        batch = decoder.push(chunk);
        for (const m of batch) checkAddress(m, from, this.#ctx.memberId);
      } catch (err) {
        this.#ctx.log('error', `transport: dropped the stream from member ${hexId(from)}: ${describe(err)}`);
        stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
        return;
      }
      if (batch.length > 0) this.#ctx.onMessages(batch);
    });
  }

  async #receiveSnapshot(stream: ServerHttp2Stream, from: NodeId): Promise<void> {
    this.#snapshots.add(stream);
    const reader = new SnapshotReader(stream, this.#ctx.limits);
    try {
      const msg = await reader.message();
      checkAddress(msg, from, this.#ctx.memberId);
      if (msg.type !== MessageType.Snap || msg.snapshot === undefined) {
        const what = `transport: a ${msg.type} message heads a snapshot request`;
        throw new TransportError(TransportErrorCode.Malformed, what);
      }
      await this.#ctx.onSnapshot(msg, reader.body());
      if (!reader.complete) {
        const what = 'transport: the snapshot body was not read to its end';
        throw new TransportError(TransportErrorCode.SnapshotTruncated, what);
      }
      const meta = msg.snapshot.metadata;
      const at = `[index ${meta.index}, term ${meta.term}]`;
      this.#ctx.log('info', `transport: received snapshot ${at} from member ${hexId(from)}`);
      respond(stream, 200, TEXT, 'ok\n');
    } catch (err) {
      const why = describe(err);
      this.#ctx.log('warn', `transport: failed to receive a snapshot from member ${hexId(from)}: ${why}`);
      respond(stream, isTransportError(err) ? 400 : 500, TEXT, `${why}\n`);
    } finally {
      this.#snapshots.delete(stream);
    }
  }
}

function checkAddress(m: Message, from: NodeId, to: NodeId): void {
  if (m.from !== from || m.to !== to) {
    throw new TransportError(
      TransportErrorCode.Malformed,
      `transport: message ${hexId(m.from)}->${hexId(m.to)} on the stream ${hexId(from)}->${hexId(to)}`,
    );
  }
}

/** Answers a stream (once; a no-op on a stream already answered or gone). */
function respond(
  stream: ServerHttp2Stream,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': status, ...headers });
  stream.end(body);
}

/** A member or cluster id header (hex, as etcd writes types.ID), or undefined. */
function parseId(value: string | string[] | undefined): bigint | undefined {
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{1,16}$/.test(value)) return undefined;
  return BigInt(`0x${value}`);
}

function stripQuery(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
