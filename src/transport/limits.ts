// Every bound of the transport room in one place: frame and queue sizes, snapshot chunking,
// reconnect backoff, liveness pings, peer request sizes and concurrency. Each limit states its
// unit and what it trades; a PeerTransport may override any of them (tests shrink them), but the
// defaults are these.

/** The transport's limits. All sizes in bytes, all durations in milliseconds. */
export interface TransportLimits {
  /**
   * Hard cap on one encoded message frame, in bytes. A decoder refuses a length prefix above it
   * before allocating anything; a sender drops (and reports) a message that would exceed it.
   * Raft's own msgBytesMax (1 MiB of entries per App) keeps real messages far below.
   */
  frameBytesMax: number;
  /**
   * Messages per peer written but not yet flushed to the socket (etcd's streamBufSize, 4096).
   * A send that would pass it is dropped and the peer reported unreachable: Raft resends.
   */
  peerQueueMessagesMax: number;
  /**
   * Bytes per peer written but not yet flushed to the socket. Bounds the memory a stuck peer can
   * pin; one batch is always accepted when nothing is in flight, so the true bound is this plus
   * one batch (itself at most peerQueueMessagesMax frames).
   */
  peerQueueBytesMax: number;
  /**
   * Size of one snapshot body chunk, in bytes: each carries its own running CRC32C. The receiver
   * refuses larger chunks; memory held per snapshot stream is a few chunks on each side.
   */
  snapshotChunkBytes: number;
  /** First reconnect delay after a stream fails; doubles per failed attempt. */
  reconnectBaseMs: number;
  /** Reconnect delays stop doubling here; each is jittered to [50%, 100%] of its value. */
  reconnectMaxMs: number;
  /** How often an active stream's connection is pinged (HTTP/2 PING). */
  pingIntervalMs: number;
  /** A ping unanswered this long marks the peer inactive and reconnects: a silent partition. */
  pingTimeoutMs: number;
  /** How long a connection attempt may take before it is abandoned and retried. */
  dialTimeoutMs: number;
  /**
   * Cap on the body of one peer request and of its response, in bytes: etcd's 1.5 MiB request
   * limit plus 512 KiB of slack for the envelope (etcd's gRPC overhead allowance). A sender
   * refuses a larger body before sending, a receiver answers 413 past it, a larger response
   * fails the request. Bigger bodies would need streaming, as snapshots do.
   */
  peerRequestBytesMax: number;
  /**
   * Peer requests in flight to one peer (sender), and handler calls running for one peer
   * (receiver). Past it a request fails at once with Busy (sender) or 503 (receiver), rather
   * than queueing behind a slow leader. The memory a peer can pin on either side is this times
   * peerRequestBytesMax; lease renewals, the expected traffic, are tens of bytes each.
   */
  peerRequestsMax: number;
}

/** The default limits. */
export const defaultTransportLimits: Readonly<TransportLimits> = Object.freeze({
  frameBytesMax: 64 * 1024 * 1024,
  peerQueueMessagesMax: 4096,
  peerQueueBytesMax: 64 * 1024 * 1024,
  snapshotChunkBytes: 256 * 1024,
  reconnectBaseMs: 50,
  reconnectMaxMs: 2000,
  pingIntervalMs: 2000,
  pingTimeoutMs: 5000,
  dialTimeoutMs: 3000,
  peerRequestBytesMax: 1.5 * 1024 * 1024 + 512 * 1024,
  peerRequestsMax: 128,
});

/** Limits with overrides applied, checked for sense once. */
export function resolveLimits(overrides: Partial<TransportLimits> = {}): TransportLimits {
  const limits = { ...defaultTransportLimits, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`transport: limit ${name} must be a positive integer, got ${value}`);
    }
  }
  if (limits.reconnectMaxMs < limits.reconnectBaseMs) {
    throw new RangeError('transport: reconnectMaxMs must be at least reconnectBaseMs');
  }
  if (limits.frameBytesMax > 0xffff_ffff) throw new RangeError('transport: frameBytesMax above 4 GiB');
  return limits;
}

/** The HTTP paths and headers of the peer protocol. */
export const PeerProtocol = {
  /** The long-lived message stream (POST, body: length-prefixed message frames). */
  streamPath: '/raft/stream',
  /** One snapshot (POST, body: a Snap message frame, then checksummed chunks). */
  snapshotPath: '/raft/snapshot',
  /** Peer requests (POST, body: request bytes): this prefix, then the method name. */
  requestPathPrefix: '/raft/request/',
  /** The sender's member id, hex (as etcd's X-Server-From). */
  fromHeader: 'x-server-from',
  /** The receiver's member id, hex (as etcd's X-Raft-To). */
  toHeader: 'x-raft-to',
  /** The cluster id, hex, on requests and responses (as etcd's X-Etcd-Cluster-ID). */
  clusterIdHeader: 'x-etcd-cluster-id',
} as const;

/** What GET /version answers by default (etcd 3.4's format). */
export const defaultPeerVersion = Object.freeze({ etcdserver: '3.4.23', etcdcluster: '3.4.0' });
