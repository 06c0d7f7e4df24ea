// PeerTransport: a member's connections to the other members of its cluster. It listens on the
// peer URLs (message streams, snapshots, peer requests, etcd's /members and /version), keeps one
// outgoing stream per peer, and moves Raft messages both ways without ever blocking the Ready
// loop: send() writes or drops (and reports), never waits. request() is the one call that waits,
// bounded by its timeout. close() is idempotent. A peer answering 410 (this member was removed
// from the cluster) is reported once through onRemoved, so the member can stop itself.
import { readFileSync } from 'node:fs';
import type http2 from 'node:http2';
import type { Message, NodeId } from '../raft/index.ts';
import { assert } from '../util/assert.ts';
import { defaultPeerVersion, resolveLimits, type TransportLimits } from './limits.ts';
import type { PeerMember, PeerVersion } from './endpoints.ts';
import { TransportError, TransportErrorCode, isTransportError } from './errors.ts';
import { PeerListener, type ListenerTls } from './listener.ts';
import { type TransportLog, hexId } from './log.ts';
import { Peer, type ClientTls, type PeerContext } from './peer.ts';
import { Receiver } from './receiver.ts';
import type { PeerRequestContext } from './request-receiver.ts';
import { RequestSender, type PeerRequestOptions } from './request-sender.ts';
import { RequestStatus, isRequestMethod } from './request-wire.ts';
import type { ChunkTamper } from './snapshot-body.ts';
import { sendSnapshotTo } from './snapshot-sender.ts';

/** Peer TLS files, as etcd's --peer-cert-file, --peer-key-file, --peer-trusted-ca-file. */
export interface PeerTlsOptions {
  /** PEM certificate, served to peers and presented to them as a client certificate. */
  certFile: string;
  keyFile: string;
  /** PEM CA bundle peers' certificates are verified against (both directions). */
  trustedCaFile?: string;
  /** Require a verified client certificate from connecting peers (--peer-client-cert-auth). */
  clientCertAuth?: boolean;
  /**
   * Dial peers without verifying their server certificates (etcd's InsecureSkipVerify, which
   * --peer-auto-tls turns on: a self-signed certificate cannot be verified).
   */
  insecureSkipVerify?: boolean;
}

/** A snapshot database body, or a function producing one (called once, when sending starts). */
export type SnapshotBody = AsyncIterable<Uint8Array> | (() => AsyncIterable<Uint8Array>);

/** How a PeerTransport is set up. */
export interface PeerTransportOptions {
  memberId: NodeId;
  clusterId: bigint;
  /** URLs to listen on (http:// or https://; port 0 picks a free port). None: send only. */
  listenUrls?: readonly string[];
  tls?: PeerTlsOptions;
  /** Messages received from peers, in the order each peer sent them (one batch per read). */
  onMessages(batch: Message[]): void;
  /**
   * A snapshot received: the Snap message and the database, whose chunks are verified before
   * they are yielded (iteration throws TransportError on corruption). Read `body` to its end,
   * and step `msg` into Raft only after it is saved; the sender learns success when this resolves.
   */
  onSnapshot(msg: Message, body: AsyncIterable<Uint8Array>): Promise<void>;
  /** A peer's messages were dropped (stream down or queue full): the member reports unreachable. */
  onUnreachable?(peerId: NodeId): void;
  /** The outcome of a snapshot to a peer (sendSnapshot, or a Snap message dropped by send). */
  onSnapshotStatus?(peerId: NodeId, ok: boolean): void;
  /**
   * Whether a member id was removed from the cluster (the member's membership table; ids are
   * never reused). Asked only about senders that are not peers: those removed are answered 410
   * ("permanently removed") on streams, snapshots and requests, the rest 404 (unknown sender).
   * None: every unknown sender gets 404.
   */
  isRemoved?(id: NodeId): boolean;
  /**
   * A peer answered 410: it says this member was removed from the cluster (etcd's "the member
   * has been permanently removed from the cluster"), which the member, down or partitioned when
   * it happened, never applied. Called at most once per transport, whichever peer or path (stream,
   * snapshot, request) told first; the member should stop itself. The stream to that peer is not
   * redialled; streams to other peers go on until the member closes the transport.
   */
  onRemoved?(byPeer: NodeId): void;
  /**
   * Requests from peers (`request` on their side), e.g. a follower forwarding a LeaseKeepAlive
   * to the leader. `method` is the short name the sender gave ("lease-renew"). Resolve with the
   * response bytes (≤ peerRequestBytesMax). A throw or rejection fails that request only: the
   * error's `code` (string or number; "unknown" without one) and `message` reach the caller as
   * a Remote TransportError. `context.signal` aborts when the caller gives up. None: peers'
   * requests are refused (501).
   */
  onPeerRequest?(
    from: NodeId,
    method: string,
    body: Uint8Array,
    context: PeerRequestContext,
  ): Promise<Uint8Array>;
  /** The cluster's members, served on GET /members. */
  members?(): readonly PeerMember[];
  /** What GET /version reports. */
  version?: PeerVersion;
  log: TransportLog;
  /** A float in [0, 1) for reconnect jitter (Math.random by default). */
  rng?: () => number;
  /** Overrides of the default limits (limits.ts). */
  limits?: Partial<TransportLimits>;
  /** Test hooks. */
  hooks?: { tamperSnapshotChunk?: ChunkTamper };
}

/** The peer transport of one member. */
export class PeerTransport {
  readonly #options: PeerTransportOptions;
  readonly #limits: TransportLimits;
  readonly #peers = new Map<NodeId, Peer>();
  readonly #requestSenders = new Map<NodeId, RequestSender>();
  readonly #peerContext: PeerContext;
  readonly #receiver: Receiver;
  readonly #listeners: PeerListener[] = [];
  readonly #snapshotSessions = new Set<http2.ClientHttp2Session>();
  readonly #serverTls: ListenerTls | undefined;
  #urls: string[] = [];
  #closing: Promise<void> | undefined;
  /** The peer that first said this member was removed (410), once one has. */
  #removedBy: NodeId | undefined;

  constructor(options: PeerTransportOptions) {
    this.#options = options;
    this.#limits = resolveLimits(options.limits);
    const tlsFiles = options.tls === undefined ? undefined : readTls(options.tls);
    this.#serverTls = tlsFiles?.server;
    this.#peerContext = {
      memberId: options.memberId,
      clusterId: options.clusterId,
      limits: this.#limits,
      log: options.log,
      rng: options.rng ?? Math.random,
      clientTls: tlsFiles?.client,
      onUnreachable: (id) => options.onUnreachable?.(id),
      onSnapshotStatus: (id, ok) => options.onSnapshotStatus?.(id, ok),
      onRemoved: (id) => this.#reportRemoved(id),
    };
    this.#receiver = new Receiver({
      memberId: options.memberId,
      clusterId: options.clusterId,
      limits: this.#limits,
      log: options.log,
      isPeer: (id) => this.#peers.has(id),
      isRemoved: (id) => options.isRemoved?.(id) ?? false,
      onMessages: (batch) => options.onMessages(batch),
      onSnapshot: (msg, body) => options.onSnapshot(msg, body),
      onPeerRequest: options.onPeerRequest?.bind(options),
      members: () => options.members?.() ?? [],
      version: options.version ?? defaultPeerVersion,
    });
  }

  /** The limits in force. */
  get limits(): Readonly<TransportLimits> {
    return this.#limits;
  }

  /** The URLs listened on, with ports resolved (after start()). */
  get urls(): readonly string[] {
    return this.#urls;
  }

  /** Listens on every listen URL; resolves with them, ports resolved. */
  async start(): Promise<readonly string[]> {
    assert(this.#listeners.length === 0, 'transport: start() called twice');
    if (this.#closing !== undefined) throw new TransportError(TransportErrorCode.Closed, 'transport: closed');
    for (const raw of this.#options.listenUrls ?? []) {
      const url = parseUrl(raw);
      const secure = url.protocol === 'https:';
      if (secure && this.#serverTls === undefined) {
        const why = `transport: listen URL "${raw}" is https but no peer TLS is configured`;
        throw new TransportError(TransportErrorCode.BadConfig, why);
      }
      const listener = new PeerListener(this.#receiver, secure ? this.#serverTls : undefined);
      this.#listeners.push(listener);
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = await listener.listen(url.port === '' ? 0 : Number(url.port), host);
      url.port = String(port);
      this.#urls.push(url.origin);
      this.#options.log('info', `transport: listening for peers on ${url.origin}`);
    }
    return this.#urls;
  }

  /** Starts streaming to a peer (a no-op if known: use updatePeer to change its URLs). */
  addPeer(id: NodeId, urls: readonly string[]): void {
    if (this.#closing !== undefined || this.#peers.has(id)) return;
    assert(id !== this.#options.memberId, () => `transport: cannot add this member ${hexId(id)} as its own peer`);
    this.#peers.set(id, new Peer(this.#peerContext, id, checkUrls(urls)));
  }

  /** Stops streaming to and accepting from a peer; its requests in flight fail (Connection). */
  removePeer(id: NodeId): void {
    this.#peers.get(id)?.close();
    this.#peers.delete(id);
    const why = `transport: member ${hexId(id)} was removed`;
    this.#requestSenders.get(id)?.close(new TransportError(TransportErrorCode.Connection, why));
    this.#requestSenders.delete(id);
    this.#receiver.dropPeer(id);
  }

  /** Changes a peer's URLs (a member update). */
  updatePeer(id: NodeId, urls: readonly string[]): void {
    const peer = this.#peers.get(id);
    if (peer === undefined) return this.addPeer(id, urls);
    peer.updateUrls(checkUrls(urls));
    this.#requestSenders.get(id)?.retarget(urls);
  }

  /** True while the stream to the peer is up. */
  isActive(id: NodeId): boolean {
    return this.#peers.get(id)?.activeSince !== undefined;
  }

  /** Since when the stream to the peer has been up, or undefined. */
  activeSince(id: NodeId): Date | undefined {
    return this.#peers.get(id)?.activeSince;
  }

  /** The peer that first answered 410 (this member was removed from the cluster), or undefined. */
  get removedBy(): NodeId | undefined {
    return this.#removedBy;
  }

  /**
   * Sends messages, grouped by destination: one write per peer per call. Never blocks: messages
   * to a peer that is down or too far behind are dropped and reported (onUnreachable).
   */
  send(messages: readonly Message[]): void {
    if (this.#closing !== undefined || messages.length === 0) return;
    const first = messages[0]!.to;
    if (messages.every((m) => m.to === first)) return this.#sendTo(first, messages);
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list === undefined) byPeer.set(m.to, [m]);
      else list.push(m);
    }
    for (const [to, batch] of byPeer) this.#sendTo(to, batch);
  }

  /**
   * Streams a snapshot (the Snap message, then the database in checksummed chunks) to `msg.to` on
   * a separate connection. Resolves when the peer has verified and accepted it; the outcome is
   * also reported through onSnapshotStatus.
   */
  async sendSnapshot(msg: Message, body: SnapshotBody): Promise<void> {
    const peer = this.#peers.get(msg.to);
    let ok = false;
    try {
      if (this.#closing !== undefined) throw new TransportError(TransportErrorCode.Closed, 'transport: closed');
      if (peer === undefined) {
        const why = `transport: no peer ${hexId(msg.to)} to send a snapshot to`;
        throw new TransportError(TransportErrorCode.UnknownPeer, why);
      }
      const db = typeof body === 'function' ? body() : body;
      await sendSnapshotTo(peer, msg, db, {
        chunkBytes: this.#limits.snapshotChunkBytes,
        tamper: this.#options.hooks?.tamperSnapshotChunk,
        track: (session) => {
          this.#snapshotSessions.add(session);
          return () => this.#snapshotSessions.delete(session);
        },
      });
      ok = true;
      const index = msg.snapshot?.metadata.index ?? 0;
      this.#options.log('info', `transport: sent snapshot [index ${index}] to member ${hexId(msg.to)}`);
    } catch (err) {
      this.#checkRemoved(msg.to, err);
      throw err;
    } finally {
      this.#options.onSnapshotStatus?.(msg.to, ok);
    }
  }

  /**
   * Sends a request to a peer (`POST /raft/request/<method>` on a connection of its own) and
   * resolves with the bytes its onPeerRequest resolved with. `method` is a short name: lower-case
   * letters, digits and dashes, starting with a letter. Rejects with a TransportError:
   * - UnknownPeer: `to` is not a peer; Closed: this transport is closed;
   * - TooLarge: `body` exceeds peerRequestBytesMax (nothing is sent);
   * - Busy: peerRequestsMax requests to `to` are in flight already (nothing is sent);
   * - Timeout: no answer within `options.timeoutMs` (the request is cancelled on the peer);
   * - Connection: the peer could not be reached, or the connection failed before an answer;
   * - Remote: the peer's handler failed; `remoteCode` and `remoteMessage` are its error's;
   * - Refused: the peer's transport turned it away (`status`, `remoteCode` a RequestRefusal:
   *   412 cluster or member id mismatch, 404 unknown sender, 410 this member was removed (also
   *   reported through onRemoved), 413 too large, 503 busy, 501 no handler).
   * Aborting `options.signal` rejects with the signal's reason, as the member's waits do.
   */
  async request(
    to: NodeId,
    method: string,
    body: Uint8Array,
    options: PeerRequestOptions,
  ): Promise<Uint8Array> {
    assert(isRequestMethod(method), () => `transport: bad peer request method ${JSON.stringify(method)}`);
    assert(options.timeoutMs > 0, () => `transport: request timeoutMs must be > 0, got ${options.timeoutMs}`);
    if (this.#closing !== undefined) {
      return Promise.reject(new TransportError(TransportErrorCode.Closed, 'transport: closed'));
    }
    const peer = this.#peers.get(to);
    if (peer === undefined) {
      const why = `transport: no peer ${hexId(to)} to send request "${method}" to`;
      return Promise.reject(new TransportError(TransportErrorCode.UnknownPeer, why));
    }
    let sender = this.#requestSenders.get(to);
    if (sender === undefined) {
      sender = new RequestSender(peer, this.#limits);
      this.#requestSenders.set(to, sender);
    }
    return sender.request(method, body, options).catch((err: unknown) => {
      this.#checkRemoved(to, err);
      throw err;
    });
  }

  /** Closes every connection and listener. Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const closed = new TransportError(TransportErrorCode.Closed, 'transport: closed');
    for (const sender of this.#requestSenders.values()) sender.close(closed);
    this.#requestSenders.clear();
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    for (const session of this.#snapshotSessions) session.destroy();
    this.#receiver.close();
    await Promise.all(this.#listeners.map((l) => l.close()));
  }

  /** Reports a peer's 410 (snapshot or request refused: this member was removed). */
  #checkRemoved(peerId: NodeId, err: unknown): void {
    // NB: only Refused and SnapshotRefused carry a 4xx status.
    if (isTransportError(err) && err.status === RequestStatus.Removed) this.#reportRemoved(peerId);
  }

  /** The first peer to say this member was removed is reported (onRemoved); later ones are not. */
  #reportRemoved(peerId: NodeId): void {
    if (this.#removedBy !== undefined || this.#closing !== undefined) return;
    this.#removedBy = peerId;
    const why = `member ${hexId(peerId)} says so`;
    this.#options.log('error', `transport: the member has been permanently removed from the cluster (${why})`);
    this.#options.onRemoved?.(peerId);
  }

  #sendTo(to: NodeId, batch: readonly Message[]): void {
    const peer = this.#peers.get(to);
    if (peer === undefined) {
      this.#options.log('debug', `transport: ignored ${batch.length} messages to unknown member ${hexId(to)}`);
      return;
    }
    peer.send(batch);
  }
}

function readTls(opts: PeerTlsOptions): { server: ListenerTls; client: ClientTls } {
  try {
    const cert = readFileSync(opts.certFile);
    const key = readFileSync(opts.keyFile);
    const ca = opts.trustedCaFile === undefined ? undefined : readFileSync(opts.trustedCaFile);
    const clientCertAuth = opts.clientCertAuth ?? false;
    const insecureSkipVerify = opts.insecureSkipVerify ?? false;
    return { server: { cert, key, ca, clientCertAuth }, client: { cert, key, ca, insecureSkipVerify } };
  } catch (err) {
    const why = `transport: cannot read peer TLS files: ${(err as Error).message}`;
    throw new TransportError(TransportErrorCode.BadConfig, why, { cause: err });
  }
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TransportError(TransportErrorCode.BadConfig, `transport: bad peer URL "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TransportError(TransportErrorCode.BadConfig, `transport: peer URL "${raw}" is not http or https`);
  }
  return url;
}

function checkUrls(urls: readonly string[]): readonly string[] {
  if (urls.length === 0) {
    throw new TransportError(TransportErrorCode.BadConfig, 'transport: a peer needs at least one URL');
  }
  for (const u of urls) parseUrl(u);
  return [...urls];
}
