// The apply layer: a committed request turns into key-space and lease changes, exactly as etcd's
// apply.go does it, deterministically on every member. Runs inside the store's batch for the
// entries of one Ready; the result goes to the waiter of the member that proposed it.
import { assert } from '../util/assert.ts';
import { type Lessor, isLeaseError } from '../lease/index.ts';
import { type Event, type KeyValue, type RangeRequest as StoreRangeRequest, type Store, type WriteTxn, SortOrder, SortTarget, executeRange, isMvccError } from '../mvcc/index.ts';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../proto/index.ts';
import type { InternalRequest } from './request.ts';

/** Names of etcd's errors an apply can end with (the gRPC layer maps them). */
export type ApplyErrorName = 'keyNotFound' | 'leaseNotFound' | 'leaseExist' | 'leaseTtlTooLarge' | 'compacted' | 'futureRev' | 'noSpace';

/** The outcome of applying one request. */
export type ApplyResult =
  | { ok: true; revision: number; response: unknown; compaction?: Promise<void> }
  | { ok: false; error: ApplyErrorName };

/** A failure that ends a request's apply with one of etcd's errors (the txn writes nothing). */
export class ApplyError extends Error {
  constructor(readonly errorName: ApplyErrorName) {
    super(errorName);
  }
}

const sortOrders = [SortOrder.none, SortOrder.ascend, SortOrder.descend] as const;
const sortTargets = [SortTarget.key, SortTarget.version, SortTarget.create, SortTarget.mod, SortTarget.value] as const;

/** etcd's RangeRequest as the key space takes it. */
export function toStoreRange(r: RangeRequest): StoreRangeRequest {
  return {
    key: r.key,
    rangeEnd: r.rangeEnd,
    limit: r.limit,
    revision: r.revision,
    sortOrder: sortOrders[r.sortOrder] ?? SortOrder.none,
    sortTarget: sortTargets[r.sortTarget] ?? SortTarget.key,
    keysOnly: r.keysOnly,
    countOnly: r.countOnly,
    minModRevision: r.minModRevision,
    maxModRevision: r.maxModRevision,
    minCreateRevision: r.minCreateRevision,
    maxCreateRevision: r.maxCreateRevision,
  };
}

/** Serves a range from the store or a write txn; throws ApplyError for compacted/future. */
export function applyRange(reader: Parameters<typeof executeRange>[0], r: RangeRequest): Omit<RangeResponse, 'header'> & { revision: number } {
  try {
    const rr = executeRange(reader, toStoreRange(r));
    return { kvs: rr.kvs, more: rr.more, count: rr.count, revision: rr.revision };
  } catch (err) {
    throw mapMvccError(err);
  }
}

function mapMvccError(err: unknown): unknown {
  if (isMvccError(err, 'compacted')) return new ApplyError('compacted');
  if (isMvccError(err, 'future-revision')) return new ApplyError('futureRev');
  return err;
}

const emptyHeader = (revision: number) => ({ clusterId: 0n, memberId: 0n, revision, raftTerm: 0 });

/** Applies requests to the key space and the lessor. */
export class Applier {
  readonly #store: Store;
  readonly #lessor: Lessor;
  /** Events produced by the batch in progress, for watchers. */
  #events: Event[] = [];
  #index = 0;

  constructor(store: Store, lessor: Lessor) {
    this.#store = store;
    this.#lessor = lessor;
  }

  /** Takes the events of the batch so far. */
  takeEvents(): Event[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  /** Records that `index` was applied with no key-space change (no-ops, conf changes). */
  applyNothing(index: number): void {
    this.#store.write(index, () => undefined);
  }

  /** Applies one request committed at `index`. Must run inside store.batch(). */
  apply(index: number, req: InternalRequest): ApplyResult {
    this.#index = index;
    try {
      switch (req.kind) {
        case 'put':
          // NB: etcd checks a lone put's lease before its ignore_* key (a txn's checks go the other way).
          if (req.request.lease !== 0n && this.#lessor.lookup(req.request.lease) === undefined) throw new ApplyError('leaseNotFound');
          return this.#write((txn) => ({ prevKv: this.#put(txn, req.request) }), (res, rev) => ({ header: emptyHeader(rev), ...withPrev(res.prevKv) }));
        case 'deleteRange':
          return this.#write((txn) => this.#deleteRange(txn, req.request), (res, rev) => ({ header: emptyHeader(rev), ...res }));
        case 'txn':
          return this.#txn(req.request);
        case 'compaction':
          return this.#compaction(req.request.revision);
        case 'leaseGrant':
          return this.#leaseGrant(req.request.ID, req.request.TTL);
        case 'leaseRevoke':
          return this.#leaseRevoke(req.request.ID);
        case 'leaseCheckpoint':
          for (const cp of req.request.checkpoints) this.#lessor.checkpoint(cp.ID, cp.remaining_TTL);
          return this.#noWrite({});
        case 'alarm':
        case 'memberAttributes':
        case 'memberUpdate':
          // The member applies these itself (alarms, membership); here they change nothing.
          return this.#noWrite({});
      }
    } catch (err) {
      if (err instanceof ApplyError) {
        this.applyNothing(index);
        return { ok: false, error: err.errorName };
      }
      throw err;
    }
  }

  #noWrite(response: unknown): ApplyResult {
    const { revision } = this.#store.write(this.#index, () => undefined);
    return { ok: true, revision, response };
  }

  #write<T>(fn: (txn: WriteTxn) => T, respond: (res: T, revision: number) => unknown): ApplyResult {
    const { result, revision, events } = this.#store.write(this.#index, fn);
    for (const e of events) this.#events.push(e);
    return { ok: true, revision, response: respond(result, revision) };
  }

  #put(txn: WriteTxn, p: PutRequest): KeyValue | undefined {
    let value = p.value;
    let lease = p.lease;
    if (p.ignoreValue || p.ignoreLease) {
      const prev = txn.range(p.key).kvs[0];
      if (prev === undefined) throw new ApplyError('keyNotFound');
      if (p.ignoreValue) value = prev.value;
      if (p.ignoreLease) lease = prev.lease;
    }
    if (lease !== 0n && this.#lessor.lookup(lease) === undefined) throw new ApplyError('leaseNotFound');
    const res = txn.put(p.key, value, { lease, prevKv: p.prevKv });
    if (res.prevLease !== lease) {
      if (res.prevLease !== 0n) this.#lessor.detach(res.prevLease, [p.key]);
      if (lease !== 0n) this.#lessor.attach(lease, [p.key]);
    }
    return p.prevKv ? res.prevKv : undefined;
  }

  #deleteRange(txn: WriteTxn, d: DeleteRangeRequest): Omit<DeleteRangeResponse, 'header'> {
    const res = txn.deleteRange(d.key, d.rangeEnd.length > 0 ? d.rangeEnd : undefined, { prevKv: d.prevKv });
    res.leases.forEach((lease, i) => {
      if (lease !== 0n) this.#lessor.detach(lease, [res.keys[i]!]);
    });
    return { deleted: res.deleted, prevKvs: d.prevKv ? res.prevKvs : [] };
  }

  /**
   * etcd's applierV3backend.Txn: every compare, nested txns' too, is evaluated on the key space
   * as it was before the txn (compareToPath); then the puts and the ranges on the path taken are
   * checked (checkPut, checkRange); only then does any op run, so a failed check writes nothing.
   */
  #txn(t: TxnRequest): ApplyResult {
    return this.#write(
      (txn) => {
        const path = compareToPath(txn, t);
        const deletes: DeleteRangeRequest[] = [];
        forEachOnPath(t, path, (op) => this.#checkPut(txn, op, deletes));
        forEachOnPath(t, path, (op) => this.#checkRange(txn, op));
        const begin = txn.revision;
        try {
          return this.#runTxn(txn, t, path);
        } catch (err) {
          // The checks above make this unreachable: a txn that failed after writing would leave
          // its writes in the batch without a revision. Stop the member rather than corrupt.
          assert(!(err instanceof ApplyError) || txn.revision === begin, `server: txn failed after writing: ${String(err)}`);
          throw err;
        }
      },
      (res, rev) => ({ header: emptyHeader(rev), succeeded: res.succeeded, responses: res.responses }),
    );
  }

  /**
   * etcd's checkPut, plus one case etcd misses: an ignore_value/ignore_lease put of a key that an
   * earlier delete on the path removes (possible with a "\0" range end, which the duplicate-key
   * check does not see). etcd panics there ("unexpected error during txn"); we refuse the txn.
   */
  #checkPut(txn: WriteTxn, op: RequestOp, deletes: DeleteRangeRequest[]): void {
    if (op.requestDeleteRange !== undefined) deletes.push(op.requestDeleteRange);
    const p = op.requestPut;
    if (p === undefined) return;
    if (p.ignoreValue || p.ignoreLease) {
      const deleted = deletes.some((d) => deleteCovers(d, p.key));
      if (deleted || txn.range(p.key).kvs.length === 0) throw new ApplyError('keyNotFound');
    }
    if (p.lease !== 0n && this.#lessor.lookup(p.lease) === undefined) throw new ApplyError('leaseNotFound');
  }

  /** A range in a txn may not read past the txn's begin revision, nor below the compaction. */
  #checkRange(txn: WriteTxn, op: RequestOp): void {
    const r = op.requestRange;
    if (r === undefined || r.revision === 0) return;
    if (r.revision > txn.revision) throw new ApplyError('futureRev');
    if (r.revision < this.#store.compactRevision) throw new ApplyError('compacted');
  }

  #runTxn(txn: WriteTxn, t: TxnRequest, path: TxnPath): Omit<TxnResponse, 'header'> {
    let nested = 0;
    const responses = (path.succeeded ? t.success : t.failure).map((op): ResponseOp => {
      if (op.requestTxn === undefined) return this.#runOp(txn, op);
      const inner = this.#runTxn(txn, op.requestTxn, path.nested[nested++]!);
      // NB: etcd leaves a nested txn's own header revision at 0 (its ops get theirs).
      return { responseTxn: { header: emptyHeader(0), ...inner } };
    });
    return { succeeded: path.succeeded, responses };
  }

  // NB: as etcd's applyTxn, each op's header has the txn's revision as that op saw it: the
  // begin revision until the txn first writes, the new revision from then on.
  #runOp(txn: WriteTxn, op: RequestOp): ResponseOp {
    if (op.requestRange !== undefined) {
      const { revision, ...rr } = applyRange(txn, op.requestRange);
      return { responseRange: { header: emptyHeader(revision), ...rr } };
    }
    if (op.requestPut !== undefined) {
      const put = withPrev(this.#put(txn, op.requestPut));
      return { responsePut: { header: emptyHeader(txn.revision), ...put } };
    }
    if (op.requestDeleteRange !== undefined) {
      const deleted = this.#deleteRange(txn, op.requestDeleteRange);
      return { responseDeleteRange: { header: emptyHeader(txn.revision), ...deleted } };
    }
    return {};
  }

  #compaction(revision: number): ApplyResult {
    let done: Promise<void>;
    try {
      done = this.#store.compact(revision).done;
    } catch (err) {
      throw mapMvccError(err);
    }
    const result = this.#noWrite({});
    return { ...result, compaction: done } as ApplyResult;
  }

  #leaseGrant(id: bigint, ttlSeconds: number): ApplyResult {
    let granted;
    try {
      granted = this.#lessor.grant(id, ttlSeconds);
    } catch (err) {
      throw mapLeaseError(err);
    }
    return this.#noWrite({ ID: granted.id, TTL: granted.ttlSeconds, error: '' });
  }

  #leaseRevoke(id: bigint): ApplyResult {
    try {
      this.#lessor.revoke(id);
    } catch (err) {
      throw mapLeaseError(err);
    }
    // The key deleter already recorded the deletes at this index; make sure the index is kept.
    return this.#noWrite({});
  }

  /** The lessor's key deleter: removes a revoked lease's keys in one revision. */
  deleteKeys(keys: Uint8Array[]): void {
    const { events } = this.#store.write(this.#index, (txn) => {
      for (const key of keys) txn.deleteRange(key);
    });
    for (const e of events) this.#events.push(e);
  }
}

function mapLeaseError(err: unknown): unknown {
  if (!isLeaseError(err)) return err;
  switch (err.code) {
    case 'lease-not-found':
      return new ApplyError('leaseNotFound');
    case 'lease-exist':
      return new ApplyError('leaseExist');
    case 'lease-ttl-too-large':
      return new ApplyError('leaseTtlTooLarge');
    default:
      return err;
  }
}

function withPrev(prevKv: KeyValue | undefined): Omit<PutResponse, 'header'> {
  return prevKv === undefined ? {} : { prevKv };
}

/** Which branch a txn takes, and (in order) the paths of the nested txns on that branch. */
interface TxnPath {
  succeeded: boolean;
  nested: TxnPath[];
}

/** etcd's compareToPath: every compare on the path, on the key space before any op runs. */
function compareToPath(txn: WriteTxn, t: TxnRequest): TxnPath {
  const succeeded = t.compare.every((c) => applyCompare(txn, c));
  const ops = succeeded ? t.success : t.failure;
  return { succeeded, nested: ops.flatMap((op) => (op.requestTxn === undefined ? [] : [compareToPath(txn, op.requestTxn)])) };
}

/** Whether a delete's range (etcd's rules: one key, [key, end), or from key on for "\0") holds `key`. */
function deleteCovers(d: DeleteRangeRequest, key: Uint8Array): boolean {
  if (d.rangeEnd.length === 0) return Buffer.compare(key, d.key) === 0;
  if (Buffer.compare(key, d.key) < 0) return false;
  return (d.rangeEnd.length === 1 && d.rangeEnd[0] === 0) || Buffer.compare(key, d.rangeEnd) < 0;
}

/** Calls `fn` with each op on a txn's path (descending into nested txns), in order. */
function forEachOnPath(t: TxnRequest, path: TxnPath, fn: (op: RequestOp) => void): void {
  let nested = 0;
  for (const op of path.succeeded ? t.success : t.failure) {
    if (op.requestTxn === undefined) fn(op);
    else forEachOnPath(op.requestTxn, path.nested[nested++]!, fn);
  }
}

const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

/** etcd's applyCompare: every key in the compare's range must satisfy it. */
export function applyCompare(txn: WriteTxn, c: Compare): boolean {
  const rangeEnd = c.rangeEnd.length > 0 ? c.rangeEnd : undefined;
  const kvs = txn.range(c.key, rangeEnd).kvs;
  if (kvs.length === 0) {
    // A missing key compares as an empty KeyValue, except that no value equals a missing one.
    if (c.target === CompareTarget.VALUE) return false;
    return compareKeyValue(c, undefined);
  }
  return kvs.every((kv) => compareKeyValue(c, kv));
}

function compareKeyValue(c: Compare, kv: KeyValue | undefined): boolean {
  let diff: number;
  switch (c.target) {
    case CompareTarget.VALUE:
      diff = Buffer.compare(kv?.value ?? new Uint8Array(0), c.value ?? new Uint8Array(0));
      break;
    case CompareTarget.CREATE:
      diff = (kv?.createRevision ?? 0) - (c.createRevision ?? 0);
      break;
    case CompareTarget.MOD:
      diff = (kv?.modRevision ?? 0) - (c.modRevision ?? 0);
      break;
    case CompareTarget.LEASE: {
      const a = kv?.lease ?? 0n;
      const b = c.lease ?? 0n;
      diff = a < b ? -1 : a > b ? 1 : 0;
      break;
    }
    case CompareTarget.VERSION:
    default:
      diff = (kv?.version ?? 0) - (c.version ?? 0);
      break;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return diff === 0;
    case CompareResult.NOT_EQUAL:
      return diff !== 0;
    case CompareResult.GREATER:
      return diff > 0;
    case CompareResult.LESS:
      return diff < 0;
    default:
      assert(false, `server: unknown compare result ${c.result}`);
  }
}
