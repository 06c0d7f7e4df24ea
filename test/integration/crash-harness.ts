// The crash tests' tools: a small gRPC client (grpc-js over our own .proto files), a write load of
// concurrent workers that records which writes were acknowledged and at which revision, and the
// check of a restarted member against that record. Also readers for the WAL files on disk.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, PROTO_FILES } from '../../src/proto/index.ts';
import { RECORD_BYTES_MAX_DEFAULT, parseSegmentName } from '../../src/wal/index.ts';
import { readRecord } from '../../src/wal/segment.ts';
import { startConcord, type ConcordProcess, type StartOptions } from './concord-process.ts';

const packageDefinition = protoLoader.loadSync(PROTO_FILES.slice(), {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  defaults: true,
});
const api = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  etcdserverpb: Record<string, grpc.ServiceClientConstructor>;
};

type Stub = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** A key-value as grpc-js decodes it (64-bit numbers as decimal strings). */
interface WireKv {
  key: Buffer;
  value: Buffer;
  mod_revision: string;
  create_revision: string;
  version: string;
}

/** A key as read back, numbers decoded. */
export interface ReadKv {
  value: string;
  modRevision: number;
  createRevision: number;
  version: number;
}

/** Just the calls the crash tests make. */
export class CrashClient {
  readonly #kv: Stub;
  readonly #maintenance: Stub;

  constructor(endpoint: string) {
    const options = { 'grpc.max_receive_message_length': -1 };
    const credentials = grpc.credentials.createInsecure();
    this.#kv = new api.etcdserverpb['KV']!(endpoint, credentials, options) as Stub;
    const Maintenance = api.etcdserverpb['Maintenance']!;
    this.#maintenance = new Maintenance(endpoint, credentials, options) as Stub;
  }

  /** Puts key=value; the revision of the write. */
  async put(key: string, value: string): Promise<number> {
    const request = { key: Buffer.from(key), value: Buffer.from(value) };
    const res = await call<{ header: { revision: string } }>(this.#kv, 'Put', request);
    return Number(res.header.revision);
  }

  /** One txn that puts every key to `value` (all or nothing); its revision. */
  async putAll(keys: readonly string[], value: string): Promise<number> {
    const success = keys.map((key) => ({
      request_put: { key: Buffer.from(key), value: Buffer.from(value) },
    }));
    const request = { compare: [], success, failure: [] };
    type Response = { header: { revision: string }; succeeded: boolean };
    const res = await call<Response>(this.#kv, 'Txn', request);
    assert.equal(res.succeeded, true);
    return Number(res.header.revision);
  }

  /** Every key under `prefix` now, and the revision of the read. */
  async rangePrefix(prefix: string): Promise<{ kvs: Map<string, ReadKv>; revision: number }> {
    const key = Buffer.from(prefix);
    const end = Buffer.from(key);
    end[end.length - 1]!++;
    const request = { key, range_end: end };
    type Response = { header: { revision: string }; kvs: WireKv[] };
    const res = await call<Response>(this.#kv, 'Range', request);
    const kvs = new Map<string, ReadKv>();
    for (const kv of res.kvs) kvs.set(kv.key.toString(), readKv(kv));
    return { kvs, revision: Number(res.header.revision) };
  }

  /** One key at `revision` (0: now). */
  async get(key: string, revision = 0): Promise<ReadKv | undefined> {
    const request = { key: Buffer.from(key), revision };
    const res = await call<{ kvs: WireKv[] }>(this.#kv, 'Range', request);
    return res.kvs[0] === undefined ? undefined : readKv(res.kvs[0]);
  }

  /** etcd's HashKV at `revision`: the hash and the revision it covers. */
  async hashKV(revision: number): Promise<{ hash: number; revision: number }> {
    type Response = { hash: number; header: { revision: string } };
    const res = await call<Response>(this.#maintenance, 'HashKV', { revision });
    return { hash: res.hash, revision: Number(res.header.revision) };
  }

  close(): void {
    this.#kv.close();
    this.#maintenance.close();
  }
}

function readKv(kv: WireKv): ReadKv {
  return {
    value: kv.value.toString(),
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
    version: Number(kv.version),
  };
}

function call<T>(stub: Stub, method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const options: grpc.CallOptions = { deadline: Date.now() + 20_000 };
    stub[method]!(request, new grpc.Metadata(), options, (err: unknown, res: T) =>
      err ? reject(err as Error) : resolve(res),
    );
  });
}

// ---- the write load ----

/** One write the load issued: a put of one key, or a txn putting two keys to the same value. */
export interface Op {
  keys: string[];
  value: string;
  /** The revision the response carried; undefined when no response arrived. */
  ackedRevision?: number;
}

/** Everything issued so far, across crashes. */
export class History {
  readonly ops: Op[] = [];
  readonly #byKey = new Map<string, Op>();

  add(op: Op): void {
    this.ops.push(op);
    for (const key of op.keys) this.#byKey.set(key, op);
  }

  opOf(key: string): Op | undefined {
    return this.#byKey.get(key);
  }

  acked(): Op[] {
    return this.ops.filter((op) => op.ackedRevision !== undefined);
  }
}

/** Options of runLoad. */
export interface LoadOptions {
  /** Keys start with this (one per round keeps rounds apart). */
  prefix: string;
  workers: number;
  /** Stop after issuing this many writes in all. */
  opsMax: number;
  /** Stop issuing when this turns true (the server died or was killed). */
  stopped: () => boolean;
  /** Called after each acknowledged write with the count so far. */
  onAck?: (acked: number) => void;
}

const PADDING = 'x'.repeat(160);

/**
 * Runs `workers` loops, each writing one op at a time (every third a two-key txn), until
 * `stopped()` or `opsMax` writes were issued; every op goes into `history` before it is sent.
 * Errors are expected once the server dies: the op just stays unacknowledged.
 */
export async function runLoad(
  client: CrashClient, history: History, options: LoadOptions,
): Promise<{ issued: number; acked: number }> {
  let issued = 0;
  let acked = 0;
  const worker = async (w: number): Promise<void> => {
    for (let seq = 0; !options.stopped() && issued < options.opsMax; seq++) {
      issued++;
      const base = `${options.prefix}${w}/${String(seq).padStart(6, '0')}`;
      const txn = seq % 3 === 2;
      const keys = txn ? [`${base}/a`, `${base}/b`] : [base];
      const op: Op = { keys, value: `${base}:${PADDING}` };
      history.add(op);
      try {
        op.ackedRevision = await (txn ? client.putAll(keys, op.value) : client.put(base, op.value));
        acked++;
        options.onAck?.(acked);
      } catch {
        // Unknown outcome: the write may or may not have been applied.
      }
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  return { issued, acked };
}

// ---- the check ----

/**
 * Checks a restarted member against everything the load ever issued:
 *   - every acknowledged write is there, with its value and its revision (also read at it);
 *   - every key there was written by the load with its value, once (version 1);
 *   - a txn's two keys are both there at one revision, or neither is;
 *   - revisions 2..current each belong to exactly one write: none reused, none skipped.
 * Returns the current revision.
 */
export async function checkAgainstHistory(
  client: CrashClient, history: History, prefix: string,
): Promise<number> {
  const { kvs, revision } = await client.rangePrefix(prefix);
  for (const op of history.acked()) {
    for (const key of op.keys) {
      const kv = kvs.get(key);
      const at = op.ackedRevision;
      assert.ok(kv !== undefined, `acknowledged write of "${key}" at revision ${at} is lost`);
      assert.equal(kv.value, op.value, `"${key}" has another value`);
      assert.equal(kv.modRevision, at, `"${key}" acknowledged at ${at} is at ${kv.modRevision}`);
    }
  }
  const opAt = new Map<number, Op>();
  for (const [key, kv] of kvs) {
    const op = history.opOf(key);
    assert.ok(op !== undefined, `"${key}" was never written`);
    assert.equal(kv.value, op.value, `"${key}" has another value`);
    assert.equal(kv.version, 1, `"${key}" was written ${kv.version} times`);
    assert.equal(kv.createRevision, kv.modRevision);
    for (const other of op.keys) {
      const otherRevision = kvs.get(other)?.modRevision;
      assert.equal(otherRevision, kv.modRevision,
        `txn half-applied: "${key}" at ${kv.modRevision}, "${other}" at ${otherRevision}`);
    }
    const seen = opAt.get(kv.modRevision);
    assert.ok(seen === undefined || seen === op,
      `revision ${kv.modRevision} reused by "${key}" and "${seen?.keys[0]}"`);
    opAt.set(kv.modRevision, op);
  }
  for (let rev = 2; rev <= revision; rev++) {
    assert.ok(opAt.has(rev), `revision ${rev} (of 2..${revision}) holds no write`);
  }
  // Read back by revision: the newest acknowledged writes, and a spread of older ones.
  const acked = history.acked();
  const sample = [...acked.slice(-20), ...acked.filter((_, i) => i % 97 === 0)];
  for (const op of sample) {
    const kv = await client.get(op.keys[0]!, op.ackedRevision);
    assert.equal(kv?.modRevision, op.ackedRevision, `"${op.keys[0]}" read at ${op.ackedRevision}`);
  }
  return revision;
}

// ---- processes ----

/** WAL segment size for the crash tests: a cut every ~250 writes of the load. */
const SEGMENT_BYTES = 64 * 1024;

/**
 * Starts concord with the crash tests' settings: a snapshot every 200 entries, small segments,
 * three kept (so cuts and purges come often), and `failpoints` armed.
 */
export function startCrashConcord(
  options: { dataDir?: string; failpoints?: string },
): Promise<ConcordProcess> {
  const env = {
    CONCORD_WAL_SEGMENT_BYTES: String(SEGMENT_BYTES),
    CONCORD_FAILPOINTS: options.failpoints ?? '',
  };
  const start: StartOptions = { args: ['--snapshot-count', '200', '--max-wals', '3'], env };
  if (options.dataDir !== undefined) start.dataDir = options.dataDir;
  return startConcord(start);
}

/**
 * Resolves when the process has exited and its output is read to the end ('close', not 'exit':
 * the line a failpoint writes as it fires must be in logs()). Call right after the start.
 */
export function closed(proc: ConcordProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.child.once('close', () => resolve()));
}

/** Where a crash test kills the member. */
export interface KillPoint {
  name: string;
  /** CONCORD_FAILPOINTS for the run that crashes; none: kill -9 after `killAfterAcks`. */
  failpoints?: string;
  killAfterAcks?: number;
}

/** Writes issued at most per crash: far more than any kill point needs. */
const OPS_PER_CRASH_MAX = 5000;

/** Runs the load (keys under `prefix`) until the kill point kills the process. */
export async function crashUnderLoad(
  proc: ConcordProcess, point: KillPoint, options: { history: History; prefix: string },
): Promise<void> {
  const client = new CrashClient(proc.endpoint);
  let dead = false;
  const down = closed(proc).then(() => (dead = true));
  let killed = false;
  try {
    const load = await runLoad(client, options.history, {
      prefix: options.prefix,
      workers: 8,
      opsMax: OPS_PER_CRASH_MAX,
      stopped: () => dead || killed,
      onAck: (acked) => {
        if (point.killAfterAcks !== undefined && acked >= point.killAfterAcks && !killed) {
          killed = true;
          void proc.kill9();
        }
      },
    });
    assert.ok(dead || killed,
      `${point.name}: never crashed in ${load.issued} writes (${load.acked} acknowledged)`);
    await down;
    assert.equal(proc.child.signalCode, 'SIGKILL', `died otherwise:\n${proc.logs()}`);
    // The crash must have come from an armed failpoint.
    const names = (point.failpoints ?? '').split(',').filter((p) => p !== '');
    if (names.length > 0) {
      const fired = names.some((p) => proc.logs().includes(`failpoint ${p.split('=')[0]!}: crash`));
      assert.ok(fired, `no failpoint of ${point.failpoints} fired:\n${proc.logs()}`);
    }
  } finally {
    client.close();
    await proc.kill9();
  }
}

// ---- WAL files ----

/** One record of a segment file. */
export interface WalRecord {
  type: number;
  /** Where the record (its header) starts. */
  offset: number;
  /** Where its payload starts and ends. */
  start: number;
  end: number;
}

/** The WAL directory of a data dir. */
export function walDirOf(dataDir: string): string {
  return join(dataDir, 'member', 'wal');
}

/** The segment files, oldest first. */
export function segmentFiles(walDir: string): string[] {
  return readdirSync(walDir)
    .flatMap((name) => parseSegmentName(name) ?? [])
    .sort((a, b) => a.seq - b.seq)
    .map((s) => s.name);
}

/** The valid records of a segment, in order, read with the WAL's own record reader. */
export function segmentRecords(path: string): { buf: Buffer; records: WalRecord[] } {
  const buf = readFileSync(path);
  const records: WalRecord[] = [];
  let at = 0;
  let seed = 0;
  for (;;) {
    const read = readRecord(buf, at, seed, RECORD_BYTES_MAX_DEFAULT);
    if (read.kind !== 'ok') break;
    records.push({ type: read.type, offset: at, start: read.start, end: read.end });
    seed = read.crc;
    at = read.end;
  }
  return { buf, records };
}
