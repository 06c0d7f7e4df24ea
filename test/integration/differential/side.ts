// One side of the differential test: a grpc-js client (our .proto files through proto-loader,
// 64-bit fields as strings, defaults filled in) of KV, Lease and Watch on one server, with lease
// names resolved to this server's ids, and responses normalized so both sides compare field by
// field: member_id, cluster_id and raft_term dropped, lease ids back to their names.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, PROTO_FILES } from '../../../src/proto/index.ts';
import { type Req, LEASES, MISSING_LEASE } from './ops.ts';

const packageDefinition = protoLoader.loadSync(PROTO_FILES.slice(), {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const api = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  etcdserverpb: Record<string, grpc.ServiceClientConstructor>;
};

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** A call's outcome as compared: the normalized response, or the error's code and message. */
export type Outcome = { ok: unknown } | { error: { code: string; details: string } };

/** Lease ids asked for explicitly (the same on both sides); the last lease's id is the server's choice. */
const EXPLICIT_LEASE_IDS = ['4369', '8738'];

/** A grpc-js client of one server. */
export class Side {
  readonly name: string;
  readonly #kv: Client;
  readonly #lease: Client;
  readonly #watch: Client;
  /** Lease name → this server's id, and back. */
  readonly #leaseIds = new Map<string, string>([['0', '0'], [MISSING_LEASE, '39321']]);
  readonly #leaseNames = new Map<string, string>();

  constructor(name: string, endpoint: string) {
    this.name = name;
    const make = (service: string): Client => new api.etcdserverpb[service]!(endpoint, grpc.credentials.createInsecure()) as never;
    this.#kv = make('KV');
    this.#lease = make('Lease');
    this.#watch = make('Watch');
  }

  /** Grants the named leases (ids explicit for all but the last); returns the grant outcomes. */
  async grantLeases(): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const [i, name] of LEASES.entries()) {
      const res = await this.#unary(this.#lease, 'LeaseGrant', { ID: EXPLICIT_LEASE_IDS[i] ?? '0', TTL: 3600 });
      if ('ok' in res) {
        const id = (res.ok as { ID: string }).ID;
        this.#leaseIds.set(name, id);
        this.#leaseNames.set(id, name);
      }
      outcomes.push(this.normalize(res));
    }
    return outcomes;
  }

  /** Calls a KV method with lease names resolved; the outcome is normalized. */
  async kv(method: 'Put' | 'DeleteRange' | 'Txn' | 'Range' | 'Compact', request: Req): Promise<Outcome> {
    return this.normalize(await this.#unary(this.#kv, method, this.#resolve(request)));
  }

  /** Opens a watch stream. */
  watchStream(onResponse: (r: Record<string, unknown>) => void, onEnd: (err: unknown) => void): WatchCall {
    const call = this.#watch['Watch']!() as grpc.ClientDuplexStream<unknown, Record<string, unknown>>;
    call.on('data', onResponse);
    call.on('error', (err) => onEnd(err));
    call.on('end', () => onEnd(undefined));
    return {
      create: (req) => call.write({ create_request: this.#resolve(req) }),
      cancel: (watchId) => call.write({ cancel_request: { watch_id: watchId } }),
      close: () => {
        call.end();
        call.cancel();
      },
    };
  }

  close(): void {
    for (const c of [this.#kv, this.#lease, this.#watch]) c.close();
  }

  #unary(client: Client, method: string, request: unknown): Promise<{ ok: unknown } | { error: { code: string; details: string } }> {
    return new Promise((resolve) => {
      client[method]!(request, (err: grpc.ServiceError | null, res: unknown) => {
        if (err !== null) resolve({ error: { code: grpc.status[err.code] ?? String(err.code), details: err.details } });
        else resolve({ ok: res });
      });
    });
  }

  /** Replaces lease names in a request by this server's ids; leaves out empty bytes. */
  #resolve<T>(value: T): T {
    if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v: unknown) => this.#resolve(v)) as T;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // NB: an empty bytes field is left out, as Go clients do: etcd reads a range_end that is
      // present but empty as "no end" (gogoproto decodes it as a non-nil empty slice).
      if (Buffer.isBuffer(v) && v.length === 0) continue;
      out[k] = k === 'lease' && typeof v === 'string' ? (this.#leaseIds.get(v) ?? v) : this.#resolve(v);
    }
    return out as T;
  }

  /** Drops what differs between servers by design; lease ids become names; bytes latin1 text. */
  normalize<T>(value: T): T {
    return normalizeWith(value, this.#leaseNames);
  }
}

/** The writable half of a watch stream. */
export interface WatchCall {
  create(request: Req): void;
  cancel(watchId: string): void;
  close(): void;
}

/** Normalizes `value` (see Side.normalize) with a map of lease ids to names. */
export function normalizeWith<T>(value: T, leaseNames: ReadonlyMap<string, string>): T {
  if (Buffer.isBuffer(value)) return value.toString('latin1') as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => normalizeWith(v, leaseNames)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'member_id' || k === 'cluster_id' || k === 'raft_term') continue;
    if ((k === 'lease' || k === 'ID') && typeof v === 'string') out[k] = leaseNames.get(v) ?? v;
    else out[k] = normalizeWith(v, leaseNames);
  }
  return out as T;
}
