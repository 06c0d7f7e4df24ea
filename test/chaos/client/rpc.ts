// A bare etcd v3 client for chaos workers: @grpc/grpc-js channels with the project's own codecs,
// one channel per endpoint, an explicit deadline on every unary call and no retries (a retry
// would hide an unknown outcome behind a second attempt and corrupt the history).
import * as grpc from '@grpc/grpc-js';
import {
  services,
  type Init,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseTimeToLiveResponse,
  type MemberAddResponse,
  type MemberListResponse,
  type MemberRemoveResponse,
  type MethodDescriptor,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type StatusResponse,
  type TxnRequest,
  type TxnResponse,
  type WatchCreateRequest,
  type WatchRequest,
  type WatchResponse,
} from '../../../src/proto/index.ts';

/** Channel options: quick reconnects (a restarted member is back within a second), a private
 * connection per client (grpc-js otherwise shares one between clients of the same target). */
const channelOptions: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.enable_retries': 0,
};

/** Default deadline of a unary call, in milliseconds. */
export const CALL_TIMEOUT_MS = 2_000;

/** etcd's metadata key that makes a member refuse (and cancel watches) while it has no leader. */
const REQUIRE_LEADER = { key: 'hasleader', value: 'true' };

/** Callbacks of a watch stream. */
export interface WatchHandlers {
  onResponse(response: WatchResponse): void;
  /** The stream ended (error, end of stream or cancel); called once. */
  onClose(error: unknown): void;
}

/** A running watch stream. */
export interface WatchStream {
  cancel(): void;
}

/** A client of one member. */
export class EtcdClient {
  readonly endpoint: string;
  readonly #client: grpc.Client;
  readonly #timeoutMs: number;

  constructor(endpoint: string, options: { timeoutMs?: number } = {}) {
    this.endpoint = endpoint;
    this.#timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
    this.#client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), channelOptions);
  }

  range(request: Init<RangeRequest>, timeoutMs?: number): Promise<RangeResponse> {
    return this.#unary(services['etcdserverpb.KV'].Range, request, timeoutMs);
  }

  put(request: Init<PutRequest>, timeoutMs?: number): Promise<PutResponse> {
    return this.#unary(services['etcdserverpb.KV'].Put, request, timeoutMs);
  }

  txn(request: Init<TxnRequest>, timeoutMs?: number): Promise<TxnResponse> {
    return this.#unary(services['etcdserverpb.KV'].Txn, request, timeoutMs);
  }

  leaseGrant(ttlSeconds: number, timeoutMs?: number): Promise<LeaseGrantResponse> {
    return this.#unary(services['etcdserverpb.Lease'].LeaseGrant, { TTL: ttlSeconds }, timeoutMs);
  }

  leaseRevoke(id: bigint, timeoutMs?: number): Promise<unknown> {
    return this.#unary(services['etcdserverpb.Lease'].LeaseRevoke, { ID: id }, timeoutMs);
  }

  leaseTimeToLive(id: bigint, timeoutMs?: number): Promise<LeaseTimeToLiveResponse> {
    return this.#unary(services['etcdserverpb.Lease'].LeaseTimeToLive, { ID: id }, timeoutMs);
  }

  status(timeoutMs?: number): Promise<StatusResponse> {
    return this.#unary(services['etcdserverpb.Maintenance'].Status, {}, timeoutMs);
  }

  memberList(timeoutMs?: number): Promise<MemberListResponse> {
    return this.#unary(services['etcdserverpb.Cluster'].MemberList, {}, timeoutMs);
  }

  memberAdd(peerUrls: string[], timeoutMs?: number): Promise<MemberAddResponse> {
    return this.#unary(services['etcdserverpb.Cluster'].MemberAdd, { peerURLs: peerUrls }, timeoutMs);
  }

  memberRemove(id: bigint, timeoutMs?: number): Promise<MemberRemoveResponse> {
    return this.#unary(services['etcdserverpb.Cluster'].MemberRemove, { ID: id }, timeoutMs);
  }

  /**
   * One keep-alive: opens a LeaseKeepAlive stream, sends the id, waits for the first answer
   * (TTL ≤ 0: the lease is gone) and ends the stream.
   */
  keepAliveOnce(id: bigint, timeoutMs?: number): Promise<LeaseKeepAliveResponse> {
    const method = services['etcdserverpb.Lease'].LeaseKeepAlive;
    return new Promise((resolve, reject) => {
      const call = this.#client.makeBidiStreamRequest(
        method.path,
        (msg: Init<{ ID: bigint }>) => method.request.encode(msg),
        (bytes: Buffer) => method.response.decode(bytes),
        new grpc.Metadata(),
        { deadline: Date.now() + (timeoutMs ?? this.#timeoutMs) },
      );
      let settled = false;
      call.on('data', (response: LeaseKeepAliveResponse) => {
        if (settled) return;
        settled = true;
        resolve(response);
        call.cancel();
      });
      call.on('error', (err: unknown) => {
        if (settled) return;
        settled = true;
        reject(err instanceof Error ? err : new Error(String(err)));
      });
      call.on('end', () => {
        if (settled) return;
        settled = true;
        reject(new Error('lease keep-alive stream ended without an answer'));
      });
      call.write({ ID: id });
    });
  }

  /** Opens a watch stream with one watcher (require-leader set, as etcd's clients can). */
  watch(create: Init<WatchCreateRequest>, handlers: WatchHandlers): WatchStream {
    const method = services['etcdserverpb.Watch'].Watch;
    const metadata = new grpc.Metadata();
    metadata.set(REQUIRE_LEADER.key, REQUIRE_LEADER.value);
    const call = this.#client.makeBidiStreamRequest(
      method.path,
      (msg: Init<WatchRequest>) => method.request.encode(msg),
      (bytes: Buffer) => method.response.decode(bytes),
      metadata,
      {},
    );
    let closed = false;
    const close = (error: unknown): void => {
      if (closed) return;
      closed = true;
      handlers.onClose(error);
    };
    call.on('data', (response: WatchResponse) => {
      if (!closed) handlers.onResponse(response);
    });
    call.on('error', (err: unknown) => close(err));
    call.on('end', () => close(new Error('watch stream ended')));
    call.write({ createRequest: create });
    return {
      cancel: () => {
        close(new Error('watch stream cancelled'));
        call.cancel();
      },
    };
  }

  /** Closes the channel; calls in flight fail. */
  close(): void {
    this.#client.close();
  }

  #unary<Req, Res>(
    method: MethodDescriptor<{ request: Req; response: Res; clientStreaming: false; serverStreaming: false }>,
    request: Init<Req>,
    timeoutMs: number | undefined,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        method.path,
        (msg: Init<Req>) => method.request.encode(msg),
        (bytes: Buffer) => method.response.decode(bytes),
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + (timeoutMs ?? this.#timeoutMs) },
        (err, value) => (err ? reject(err) : resolve(value as Res)),
      );
    });
  }
}

/**
 * A worker's connection: sticks to one endpoint while calls succeed; after a failure it drops the
 * channel and moves to the next endpoint (a fresh connection, as a client that reconnects).
 */
export class Session {
  readonly #endpoints: () => string[];
  readonly #timeoutMs: number;
  #position: number;
  #client: EtcdClient | undefined;

  constructor(endpoints: () => string[], options: { start: number; timeoutMs?: number }) {
    this.#endpoints = endpoints;
    this.#position = options.start;
    this.#timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  }

  /** The client of the current endpoint, connecting if needed. */
  get client(): EtcdClient {
    if (this.#client === undefined) {
      const endpoints = this.#endpoints();
      const endpoint = endpoints[this.#position % endpoints.length]!;
      this.#client = new EtcdClient(endpoint, { timeoutMs: this.#timeoutMs });
    }
    return this.#client;
  }

  /** The endpoint the next call goes to. */
  get endpoint(): string {
    return this.client.endpoint;
  }

  /** After a failed call: reconnect, to the next endpoint. */
  failover(): void {
    this.#client?.close();
    this.#client = undefined;
    this.#position++;
  }

  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}
