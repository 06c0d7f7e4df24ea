// The sending side towards one peer: a long-lived HTTP/2 request carrying length-prefixed message
// frames, redialled with capped, jittered exponential backoff (rotating through the peer's URLs)
// whenever it fails. Messages are never buffered while the stream is down, and at most
// peerQueueMessagesMax / peerQueueBytesMax wait unflushed while it is up: the rest are dropped
// and reported (unreachable; snapshot failure for Snap), because Raft resends what matters.
// One answer ends the redialling for good: 410, the peer saying this member was removed from the
// cluster. That never changes (member ids are not reused), so the peer is reported once
// (onRemoved) and left alone; the member stops itself.
import http2 from 'node:http2';
import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  IncomingHttpHeaders,
  SecureClientSessionOptions,
} from 'node:http2';
import { MessageType, type Message, type NodeId } from '../raft/index.ts';
import { FRAME_PREFIX_BYTES, encodeFrames, messageBytes } from './codec.ts';
import { PeerProtocol, type TransportLimits } from './limits.ts';
import { type TransportLog, hexId } from './log.ts';
import { RequestStatus } from './request-wire.ts';

/** Client TLS material: the CA to trust and the certificate to present (etcd's peer cert). */
export interface ClientTls {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** Accept any server certificate (etcd's InsecureSkipVerify, used with --peer-auto-tls). */
  insecureSkipVerify?: boolean | undefined;
}

/** What a peer needs from its transport. */
export interface PeerContext {
  memberId: NodeId;
  clusterId: bigint;
  limits: TransportLimits;
  log: TransportLog;
  /** A float in [0, 1) for backoff jitter. */
  rng: () => number;
  clientTls: ClientTls | undefined;
  onUnreachable(peerId: NodeId): void;
  onSnapshotStatus(peerId: NodeId, ok: boolean): void;
  /** The peer answered 410: it says this member was removed from the cluster. */
  onRemoved(peerId: NodeId): void;
}

/** One dial attempt and, once answered 200, the live stream. */
interface Connection {
  url: string;
  session: ClientHttp2Session;
  stream: ClientHttp2Stream;
  active: boolean;
  /** Messages and bytes written to the stream and not yet flushed. */
  inflightMessages: number;
  inflightBytes: number;
  /** When the unanswered ping was sent (performance-free: Date.now), or 0. */
  pingSentAtMs: number;
  timers: NodeJS.Timeout[];
}

/** The outgoing stream to one peer. */
export class Peer {
  readonly id: NodeId;
  readonly #ctx: PeerContext;
  #urls: readonly string[];
  #urlIndex = 0;
  #conn: Connection | undefined;
  #activeSince: Date | undefined;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #dropping = false;
  #closed = false;
  /** The peer answered 410 (this member was removed): no more dials. */
  #removed = false;

  constructor(ctx: PeerContext, id: NodeId, urls: readonly string[]) {
    this.#ctx = ctx;
    this.id = id;
    this.#urls = urls;
    this.#dial();
  }

  /** Since when the stream has been up, or undefined while it is down. */
  get activeSince(): Date | undefined {
    return this.#activeSince;
  }

  /** The URL of the current connection, else the one the next dial uses. */
  get url(): string {
    return this.#conn?.url ?? this.#urls[this.#urlIndex % this.#urls.length]!;
  }

  /** Client options for a session to `url` (TLS material only for https). */
  connectOptions(url: string): SecureClientSessionOptions {
    const t = this.#ctx.clientTls;
    if (!url.startsWith('https:') || t === undefined) return {};
    return {
      ...(t.ca && { ca: t.ca }),
      ...(t.cert && { cert: t.cert }),
      ...(t.key && { key: t.key }),
      ...(t.insecureSkipVerify === true && { rejectUnauthorized: false }),
    };
  }

  /** Request headers naming sender, receiver and cluster. */
  requestHeaders(path: string): Record<string, string> {
    return {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/octet-stream',
      [PeerProtocol.fromHeader]: hexId(this.#ctx.memberId),
      [PeerProtocol.toHeader]: hexId(this.id),
      [PeerProtocol.clusterIdHeader]: hexId(this.#ctx.clusterId),
    };
  }

  /** Writes messages (all to this peer) as one batch, or drops and reports them. */
  send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const conn = this.#conn;
    if (conn === undefined || !conn.active || !conn.stream.writable) {
      const why = this.#removed ? 'the peer says this member was removed from the cluster' : 'the stream is not active';
      return this.#drop(messages, why);
    }
    let batch = messages;
    let frames = encodeFrames(batch);
    if (frames.length > this.#ctx.limits.frameBytesMax) {
      // Rare: only then is each message sized on its own, to drop just the oversized ones.
      batch = this.#withoutOversized(messages);
      if (batch.length === 0) return;
      frames = encodeFrames(batch);
    }
    const { peerQueueMessagesMax, peerQueueBytesMax } = this.#ctx.limits;
    const full =
      conn.inflightMessages > 0 &&
      (conn.inflightMessages + batch.length > peerQueueMessagesMax ||
        conn.inflightBytes + frames.length > peerQueueBytesMax);
    if (full) return this.#drop(batch, 'the send queue is full (the peer or network is slow)');
    this.#dropping = false;
    conn.inflightMessages += batch.length;
    conn.inflightBytes += frames.length;
    const n = batch.length;
    conn.stream.write(frames, () => {
      conn.inflightMessages -= n;
      conn.inflightBytes -= frames.length;
    });
  }

  /** Points the peer at new URLs; a connection to a URL no longer listed is redialled. */
  updateUrls(urls: readonly string[]): void {
    this.#urls = urls;
    this.#urlIndex = 0;
    const conn = this.#conn;
    if (conn !== undefined && !urls.includes(conn.url)) this.#fail(conn, 'its peer URLs changed');
  }

  /** Stops dialling and cuts the connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    const conn = this.#conn;
    this.#conn = undefined;
    this.#activeSince = undefined;
    if (conn !== undefined) this.#teardown(conn);
  }

  #withoutOversized(messages: readonly Message[]): Message[] {
    const max = this.#ctx.limits.frameBytesMax;
    const kept: Message[] = [];
    for (const m of messages) {
      const size = FRAME_PREFIX_BYTES + messageBytes(m);
      if (size <= max) kept.push(m);
      else this.#drop([m], `the ${m.type} message of ${size} bytes exceeds the frame limit of ${max}`);
    }
    return kept;
  }

  #drop(messages: readonly Message[], reason: string): void {
    if (!this.#dropping) {
      this.#ctx.log('warn', `transport: dropping messages to member ${hexId(this.id)}: ${reason}`);
      this.#dropping = true;
    }
    for (const m of messages) {
      if (m.type === MessageType.Snap) this.#ctx.onSnapshotStatus(this.id, false);
    }
    this.#ctx.onUnreachable(this.id);
  }

  #dial(): void {
    if (this.#closed) return;
    const url = this.#urls[this.#urlIndex % this.#urls.length]!;
    const session = http2.connect(url, this.connectOptions(url));
    const stream = session.request(this.requestHeaders(PeerProtocol.streamPath), { endStream: false });
    const conn: Connection = {
      url, session, stream, active: false, inflightMessages: 0, inflightBytes: 0, pingSentAtMs: 0, timers: [],
    };
    this.#conn = conn;
    const dialTimer = setTimeout(() => this.#fail(conn, 'dial timeout'), this.#ctx.limits.dialTimeoutMs);
    conn.timers.push(dialTimer);
    session.on('error', (err) => this.#fail(conn, `connection error: ${err.message}`));
    session.on('close', () => this.#fail(conn, 'connection closed'));
    stream.on('error', (err) => this.#fail(conn, `stream error: ${err.message}`));
    stream.on('close', () => this.#fail(conn, 'stream closed'));
    stream.on('data', noop);
    stream.on('response', (headers) => {
      clearTimeout(dialTimer);
      if (headers[':status'] === 200) this.#onActive(conn);
      else if (headers[':status'] === RequestStatus.Removed) this.#onRemoved(conn);
      else this.#fail(conn, refusal(headers, this.#ctx.clusterId), 'warn');
    });
  }

  #onActive(conn: Connection): void {
    if (conn !== this.#conn) return;
    conn.active = true;
    this.#failures = 0;
    this.#activeSince = new Date();
    this.#ctx.log('info', `transport: peer ${hexId(this.id)} became active (${conn.url})`);
    const ping = setInterval(() => this.#ping(conn), this.#ctx.limits.pingIntervalMs);
    ping.unref();
    conn.timers.push(ping);
  }

  /** The peer answered 410: stops dialling it for good, and says so once. */
  #onRemoved(conn: Connection): void {
    if (conn !== this.#conn || this.#closed) return;
    this.#conn = undefined;
    this.#removed = true;
    this.#teardown(conn);
    const why = 'it says this member has been permanently removed from the cluster';
    this.#ctx.log('warn', `transport: stopped streaming to peer ${hexId(this.id)} (${conn.url}): ${why}`);
    this.#ctx.onRemoved(this.id);
  }

  #ping(conn: Connection): void {
    if (conn.session.destroyed) return this.#fail(conn, 'connection closed');
    const now = Date.now();
    if (conn.pingSentAtMs !== 0) {
      if (now - conn.pingSentAtMs > this.#ctx.limits.pingTimeoutMs) this.#fail(conn, 'ping timeout');
      return;
    }
    conn.pingSentAtMs = now;
    conn.session.ping((err) => {
      if (err === null) conn.pingSentAtMs = 0;
    });
  }

  /** Ends a connection once (later events of the same connection are ignored) and redials. */
  #fail(conn: Connection, reason: string, level: 'debug' | 'warn' = 'debug'): void {
    if (conn !== this.#conn || this.#closed) return;
    this.#conn = undefined;
    const wasActive = conn.active;
    this.#teardown(conn);
    if (wasActive) {
      this.#activeSince = undefined;
      this.#ctx.log('warn', `transport: peer ${hexId(this.id)} became inactive: ${reason}`);
    } else {
      this.#ctx.log(level, `transport: cannot stream to peer ${hexId(this.id)} (${conn.url}): ${reason}`);
    }
    this.#failures += 1;
    this.#urlIndex += 1;
    const { reconnectBaseMs, reconnectMaxMs } = this.#ctx.limits;
    const delay = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** Math.min(this.#failures - 1, 30));
    this.#retry = setTimeout(() => this.#dial(), Math.round(delay * (0.5 + 0.5 * this.#ctx.rng())));
    this.#retry.unref();
  }

  #teardown(conn: Connection): void {
    for (const timer of conn.timers) clearTimeout(timer);
    conn.active = false;
    conn.stream.destroy();
    conn.session.destroy();
  }
}

/** Why a peer answered the stream request with an error status. */
function refusal(headers: IncomingHttpHeaders, localCluster: bigint): string {
  const status = Number(headers[':status']);
  const remote = headers[PeerProtocol.clusterIdHeader];
  if (status === 412 && typeof remote === 'string' && remote !== hexId(localCluster)) {
    return `refused: cluster ID mismatch (local ${hexId(localCluster)}, remote ${remote})`;
  }
  if (status === 412) return 'refused: member ID mismatch (the URL belongs to another member)';
  if (status === 404) return 'refused: the peer does not know this member';
  return `refused with status ${status}`;
}

function noop(): void {}
