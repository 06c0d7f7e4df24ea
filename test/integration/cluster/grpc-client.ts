// A small gRPC client bound to one member's client endpoint, for the cluster tests: one long-lived
// channel per endpoint (no balancing, no retries, so a call says what that member answered), our
// own codecs from src/proto, and a failure as a GrpcCallError carrying the status code and details.
import * as grpc from '@grpc/grpc-js';
import {
  services,
  type HashKVResponse,
  type MemberListResponse,
  type PutResponse,
  type RangeResponse,
  type StatusResponse,
} from '../../../src/proto/index.ts';

/** Bound of one call unless the caller gives one (a failure bound, not a timed assertion). */
export const CALL_DEADLINE_MS = 30_000;

/** A call that ended with a gRPC status other than OK. */
export class GrpcCallError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(path: string, endpoint: string, code: number, details: string) {
    super(`${path} on ${endpoint}: ${grpc.status[code] ?? code}: ${details}`);
    this.code = code;
    this.details = details;
  }
  /** `UNAVAILABLE: etcdserver: no leader`, as the tests compare and report it. */
  get status(): string {
    return `${grpc.status[this.code] ?? this.code}: ${this.details}`;
  }
}

/** Per-call options: a deadline (ms from now) and request metadata. */
export interface CallOptions {
  deadlineMs?: number;
  metadata?: Record<string, string>;
}

interface Method {
  path: string;
  request: { encode(msg: never): Buffer };
  response: { decode(bytes: Uint8Array): unknown };
}

const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** The key range of every key that starts with `prefix` (etcdctl's --prefix). */
export function prefixEnd(prefix: string): Uint8Array {
  const end = Buffer.from(prefix, 'utf8');
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}

/** A client of one member (host:port). */
export class MemberClient {
  readonly endpoint: string;
  readonly #client: grpc.Client;

  constructor(endpoint: string) {
    this.endpoint = endpoint;
    this.#client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // A restarted member is found again quickly.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  /** One unary call. */
  #call<T>(method: Method, request: object, options: CallOptions = {}): Promise<T> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
    const deadline = Date.now() + (options.deadlineMs ?? CALL_DEADLINE_MS);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        method.path,
        (msg: object) => method.request.encode(msg as never),
        (b: Buffer) => method.response.decode(b),
        request,
        metadata,
        { deadline },
        (err, value) => {
          if (err) reject(new GrpcCallError(method.path, this.endpoint, err.code, err.details));
          else resolve(value as T);
        },
      );
    });
  }

  put(key: string, value: string, options?: CallOptions): Promise<PutResponse> {
    const request = { key: bytes(key), value: bytes(value) };
    return this.#call(services['etcdserverpb.KV'].Put, request, options);
  }

  /** One key, or every key under `prefix` when `prefix: true`. */
  range(
    key: string,
    opts: { prefix?: boolean; serializable?: boolean; limit?: number } & CallOptions = {},
  ): Promise<RangeResponse> {
    const request = {
      key: bytes(key),
      ...(opts.prefix === true ? { rangeEnd: prefixEnd(key) } : {}),
      serializable: opts.serializable === true,
      limit: opts.limit ?? 0,
    };
    return this.#call(services['etcdserverpb.KV'].Range, request, opts);
  }

  status(options?: CallOptions): Promise<StatusResponse> {
    return this.#call(services['etcdserverpb.Maintenance'].Status, {}, options);
  }

  /** HashKV at `revision` (0: the member's current revision). */
  hashKV(revision: number, options?: CallOptions): Promise<HashKVResponse> {
    return this.#call(services['etcdserverpb.Maintenance'].HashKV, { revision }, options);
  }

  memberList(options?: CallOptions): Promise<MemberListResponse> {
    return this.#call(services['etcdserverpb.Cluster'].MemberList, {}, options);
  }

  close(): void {
    this.#client.close();
  }
}

/** The status of a failed call (`UNAVAILABLE: ...`), or the message of any other error. */
export function describeError(err: unknown): string {
  if (err instanceof GrpcCallError) return err.status;
  return err instanceof Error ? err.message : String(err);
}
