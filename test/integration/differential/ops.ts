// The differential test's operation generator: from a seed, a sequence of etcd v3 requests (as
// grpc-js/proto-loader objects, snake_case, bytes as Buffers) over a small key space with shared
// prefixes, a key holding 0x00 and keys holding 0xff. Revisions in requests are chosen against
// the run's current and compacted revisions (passed in at every step), so the same seed on the
// same history always gives the same operations. Lease fields hold names ('@L0'), which each
// side's client resolves to its own lease id.
import { SeededRng } from '../../../src/util/rng.ts';

/** A request as proto-loader takes it. */
export type Req = Record<string, unknown>;

/** One step of a run. */
export type Op =
  | { kind: 'put'; request: Req }
  | { kind: 'deleteRange'; request: Req }
  | { kind: 'txn'; request: Req }
  | { kind: 'range'; request: Req }
  | { kind: 'compact'; request: Req }
  /** Creates a watcher on one of the seed's watch streams. */
  | { kind: 'watch'; stream: number; request: Req }
  /** Cancels the `watcher`-th watcher this seed created (index in creation order). */
  | { kind: 'cancelWatch'; watcher: number };

/** What the generator may know about the run so far. */
export interface GenContext {
  /** The key space's current revision. */
  revision: number;
  /** The last successful compaction's revision (0: none). */
  compactRevision: number;
  /**
   * The highest revision a compaction may pick (at most `revision`): etcd cancels a watcher that is
   * still catching up when a compaction passes its start, and whether it has caught up by then is
   * timing; the runner keeps compactions at or below the start of every watcher that may not have.
   */
  compactCeiling: number;
  /** Watchers created so far in this seed, and whether each can still be cancelled (also after
   * a compaction cancelled it: etcd keeps its id until the client cancels). */
  watchers: ReadonlyArray<{ cancellable: boolean }>;
}

/** Lease names granted on both servers before a run, and one that never exists. */
export const LEASES = ['@L0', '@L1', '@L2'] as const;
export const MISSING_LEASE = '@Lmissing';

/** Watch streams per seed. */
export const WATCH_STREAMS = 2;

const KEY_NAMES = ['a', 'a/1', 'a/2', 'a/b', 'a/b/c', 'ab', 'b', 'b/1', '\x00', 'x\x00y', '\xff', 'y\xff\xff', 'z'];
const PREFIX_NAMES = ['', 'a', 'a/', 'a/b', 'b', 'x', 'y\xff', '\xff'];
const VALUES = ['', 'v0', 'v1', 'v2', 'v3'];

/** Bytes of a latin1 string (every char one byte). */
export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** etcd's GetPrefixRangeEnd: the first key after every key with this prefix ("\0": no end). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** The generator of one seed's operations; keys live under `namespace`. */
export class OpGenerator {
  readonly #rng: SeededRng;
  readonly #ns: string;

  constructor(seed: number, namespace: string) {
    this.#rng = new SeededRng(seed);
    this.#ns = namespace;
  }

  /** The next operation. */
  next(ctx: GenContext): Op {
    const r = this.#rng.int(100);
    if (r < 26) return { kind: 'put', request: this.#put() };
    if (r < 38) return { kind: 'deleteRange', request: this.#delete() };
    if (r < 60) return { kind: 'txn', request: this.#txn(ctx, 0) };
    if (r < 88) return { kind: 'range', request: this.#range(ctx) };
    if (r < 91) return { kind: 'compact', request: this.#compact(ctx) };
    const cancellable = ctx.watchers.flatMap((w, i) => (w.cancellable ? [i] : []));
    if (r < 93 && cancellable.length > 0) return { kind: 'cancelWatch', watcher: this.#rng.pick(cancellable) };
    return { kind: 'watch', stream: this.#rng.int(WATCH_STREAMS), request: this.#watch(ctx) };
  }

  // ---- keys and values ----

  #key(): Buffer {
    return bytes(this.#ns + this.#rng.pick(KEY_NAMES));
  }

  #value(): Buffer {
    if (this.#rng.chance(0.1)) {
      const b = Buffer.alloc(this.#rng.int(12));
      for (let i = 0; i < b.length; i++) b[i] = this.#rng.int(256);
      return b;
    }
    return bytes(this.#rng.pick(VALUES));
  }

  /** A key and range end: one key, [a, b), a prefix, from a key on, or (rarely) everything. */
  #keyRange(): { key: Buffer; range_end: Buffer } {
    const r = this.#rng.int(100);
    if (r < 35) return { key: this.#key(), range_end: Buffer.alloc(0) };
    if (r < 55) {
      const [a, b] = [this.#key(), this.#key()];
      // Mostly ordered; sometimes reversed or equal (an empty range).
      const ordered = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
      return this.#rng.chance(0.85) ? { key: ordered[0]!, range_end: ordered[1]! } : { key: ordered[1]!, range_end: ordered[0]! };
    }
    if (r < 80) {
      const prefix = bytes(this.#ns + this.#rng.pick(PREFIX_NAMES));
      return { key: prefix, range_end: prefixEnd(prefix) };
    }
    if (r < 97) return { key: this.#key(), range_end: Buffer.from([0]) };
    return { key: Buffer.from([0]), range_end: Buffer.from([0]) };
  }

  #lease(): string {
    const r = this.#rng.int(100);
    if (r < 65) return '0';
    if (r < 97) return this.#rng.pick(LEASES);
    return MISSING_LEASE;
  }

  // ---- requests ----

  #put(): Req {
    const req: Req = { key: this.#key(), value: this.#value(), prev_kv: this.#rng.chance(0.5), lease: this.#lease() };
    if (this.#rng.chance(0.01)) req['key'] = Buffer.alloc(0); // "key is not provided"
    if (this.#rng.chance(0.1)) {
      req['ignore_value'] = true;
      if (this.#rng.chance(0.8)) req['value'] = Buffer.alloc(0);
    }
    if (this.#rng.chance(0.1)) {
      req['ignore_lease'] = true;
      if (this.#rng.chance(0.8)) req['lease'] = '0';
    }
    return req;
  }

  #delete(): Req {
    return { ...this.#keyRange(), prev_kv: this.#rng.chance(0.5) };
  }

  /** A revision to read at: now, current, historical, just compacted, or in the future. */
  #readRevision(ctx: GenContext): number {
    const r = this.#rng.int(100);
    const low = Math.max(1, ctx.compactRevision);
    if (r < 45) return 0;
    if (r < 55) return ctx.revision;
    if (r < 80) return low + this.#rng.int(ctx.revision - low + 1);
    if (r < 90 && ctx.compactRevision > 1) return ctx.compactRevision - 1 - this.#rng.int(2);
    if (r < 97) return ctx.revision + 1 + this.#rng.int(2);
    return 0;
  }

  #range(ctx: GenContext): Req {
    const req: Req = { ...this.#keyRange(), revision: this.#readRevision(ctx) };
    if (this.#rng.chance(0.01)) req['key'] = Buffer.alloc(0);
    if (this.#rng.chance(0.4)) req['limit'] = 1 + this.#rng.int(4);
    if (this.#rng.chance(0.4)) req['sort_order'] = this.#rng.pick(['NONE', 'ASCEND', 'DESCEND']);
    if (this.#rng.chance(0.4)) req['sort_target'] = this.#rng.pick(['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']);
    if (this.#rng.chance(0.3)) req['serializable'] = true;
    if (this.#rng.chance(0.2)) req['keys_only'] = true;
    if (this.#rng.chance(0.15)) req['count_only'] = true;
    for (const f of ['min_mod_revision', 'max_mod_revision', 'min_create_revision', 'max_create_revision']) {
      if (this.#rng.chance(0.12)) req[f] = this.#rng.int(ctx.revision + 2);
    }
    return req;
  }

  #compare(ctx: GenContext): Req {
    const target = this.#rng.pick(['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'] as const);
    const c: Req = { key: this.#key(), result: this.#rng.pick(['EQUAL', 'NOT_EQUAL', 'LESS', 'GREATER']), target };
    if (this.#rng.chance(0.1)) Object.assign(c, { range_end: this.#keyRange().range_end });
    // The union field matches the target, except sometimes (etcd then compares with zero).
    const field = this.#rng.chance(0.05) ? this.#rng.pick(['version', 'create_revision', 'value']) : target;
    switch (field) {
      case 'VERSION':
      case 'version':
        c['version'] = this.#rng.int(4);
        break;
      case 'CREATE':
      case 'create_revision':
        c['create_revision'] = this.#rng.int(ctx.revision + 2);
        break;
      case 'MOD':
        c['mod_revision'] = this.#rng.int(ctx.revision + 2);
        break;
      case 'VALUE':
      case 'value':
        c['value'] = this.#value();
        break;
      case 'LEASE':
        c['lease'] = this.#rng.chance(0.7) ? this.#rng.pick(LEASES) : '0';
        break;
    }
    return c;
  }

  #requestOp(ctx: GenContext, depth: number): Req {
    const r = this.#rng.int(100);
    if (r < 35) return { request_put: this.#put() };
    if (r < 55) return { request_delete_range: this.#delete() };
    if (r < 88 || depth > 0) return { request_range: this.#range(ctx) };
    return { request_txn: this.#txn(ctx, depth + 1) };
  }

  #txn(ctx: GenContext, depth: number): Req {
    const compare = Array.from({ length: this.#rng.int(4) }, () => this.#compare(ctx));
    const success = Array.from({ length: this.#rng.int(5) }, () => this.#requestOp(ctx, depth));
    const failure = Array.from({ length: this.#rng.int(4) }, () => this.#requestOp(ctx, depth));
    // Sometimes the same key twice in one branch: "duplicate key given in txn request".
    if (this.#rng.chance(0.05)) {
      const put = this.#put();
      success.push({ request_put: put }, { request_put: { ...put, value: this.#value() } });
    }
    const txn = { compare, success, failure };
    if (depth === 0) avoidEtcdTxnPanic(txn);
    return txn;
  }

  #compact(ctx: GenContext): Req {
    const r = this.#rng.int(100);
    let revision: number;
    const top = Math.min(ctx.revision, ctx.compactCeiling);
    if (r < 75 && top > ctx.compactRevision) {
      revision = ctx.compactRevision + 1 + this.#rng.int(top - ctx.compactRevision);
    } else if (r < 90) {
      revision = ctx.compactRevision; // already compacted
    } else {
      revision = ctx.revision + 1; // future
    }
    return { revision, physical: this.#rng.chance(0.5) };
  }

  #watch(ctx: GenContext): Req {
    const req: Req = { ...this.#keyRange(), prev_kv: this.#rng.chance(0.5) };
    const r = this.#rng.int(100);
    const low = Math.max(1, ctx.compactRevision);
    if (r < 30) req['start_revision'] = 0;
    else if (r < 60) req['start_revision'] = low + this.#rng.int(ctx.revision - low + 1);
    else if (r < 72 && ctx.compactRevision > 1) req['start_revision'] = ctx.compactRevision - 1;
    else if (r < 87) req['start_revision'] = ctx.revision + 1 + this.#rng.int(3);
    else req['start_revision'] = ctx.revision;
    const filters: string[] = [];
    if (this.#rng.chance(0.2)) filters.push('NOPUT');
    if (this.#rng.chance(0.2)) filters.push('NODELETE');
    req['filters'] = filters;
    // Sometimes an explicit watch id (0 asks the server to pick), which may already be taken.
    if (this.#rng.chance(0.1)) req['watch_id'] = this.#rng.int(6);
    return req;
  }
}

/**
 * NB: etcd 3.4 panics (the member dies) on a txn that deletes a key over a "\0"-ended range (its
 * duplicate-key check does not see those) and then puts it with ignore_value/ignore_lease; concord
 * refuses such a txn with "key not found". So a txn with such a delete gets no ignore_* puts.
 */
function avoidEtcdTxnPanic(txn: Req): void {
  const ops = (t: Req): Req[] => [...(t['success'] as Req[]), ...(t['failure'] as Req[])];
  const all = (t: Req): Req[] => ops(t).flatMap((op) => (op['request_txn'] === undefined ? [op] : all(op['request_txn'] as Req)));
  const fromKey = all(txn).some((op) => {
    const end = (op['request_delete_range'] as Req | undefined)?.['range_end'] as Buffer | undefined;
    return end !== undefined && end.length === 1 && end[0] === 0;
  });
  if (!fromKey) return;
  for (const op of all(txn)) {
    const put = op['request_put'] as Req | undefined;
    if (put === undefined) continue;
    delete put['ignore_value'];
    delete put['ignore_lease'];
  }
}
