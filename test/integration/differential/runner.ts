// Runs seeded operation sequences against real etcd and concord side by side and compares every
// response field by field (after Side.normalize). Seeds run one after another on one pair of
// servers, keys namespaced per seed; revisions and compaction are global, so the run tracks
// them and the generator picks revisions against them (a seed replays exactly when the same seeds
// run before it).
//
// Watches: each seed opens two watch streams per side and creates watchers at random points. When
// a watcher has caught up is decided by an oracle, one etcd watcher on every key from the start:
// a watcher has caught up once it holds as many events as the oracle's events that match its range,
// filters and start revision. The run waits for that before every compaction, before a cancel and
// at the end of a seed, then compares whole event lists. Whether a watcher etcd is still catching
// up (every 100 ms) is cancelled by a compaction would be timing, so compactions stay at or below
// the start of such watchers (see compactCeiling). Event batching and the headers of event
// responses are timing in etcd and not compared; created, canceled and compaction responses are.
import { isDeepStrictEqual } from 'node:util';
import { type GenContext, type Op, type Req, OpGenerator, WATCH_STREAMS } from './ops.ts';
import { type Outcome, type WatchCall, Side, normalizeWith } from './side.ts';

/** How long to wait for a watch response that should come (then compare what is there). */
const WATCH_WAIT_MS = 20_000;

type SideIndex = 0 | 1;
const SIDES = [0, 1] as const;

/** An event as the oracle keeps it: enough to decide which watchers should have it. */
interface OracleEvent {
  key: Buffer;
  revision: number;
  type: string;
}

interface WatcherRecord {
  /** Op index that created it. */
  opIndex: number;
  stream: number;
  /** Its stream on each side. */
  streams: StreamState[];
  request: Req;
  key: Buffer;
  rangeEnd: Buffer;
  noPut: boolean;
  noDelete: boolean;
  /** Events from this revision on belong to the watcher. */
  minRevision: number;
  /** ...up to this one (set when cancelled). */
  maxRevision: number;
  /** Whether it should receive events (created, not cancelled). */
  live: boolean;
  /** Whether its id is taken on the stream (created, not cancelled by a request). */
  cancellable: boolean;
  /** Whether it started in the past, so etcd first catches it up from history (unsynced). */
  historical: boolean;
  /**
   * Whether it starts exactly at the compacted revision. NB: etcd 3.4.23's compaction drops a
   * tombstone at exactly the compact revision (its keyIndex.compact), so such a watcher misses the
   * deletes of that revision once the background compaction has run (timing); concord keeps them,
   * as later etcd releases do. Those DELETE events are not compared.
   */
  atCompactRevision: boolean;
  /** The created responses (raw), per side. */
  created: [Record<string, unknown> | undefined, Record<string, unknown> | undefined];
  watchIds: [string | undefined, string | undefined];
  events: [unknown[], unknown[]];
  /** Responses with canceled set (compaction, cancel request), per side. */
  cancels: [unknown[], unknown[]];
}

interface StreamState {
  call: WatchCall;
  /** Watchers asked for, waiting for their created response (answered in order). */
  pending: WatcherRecord[];
  byId: Map<string, WatcherRecord>;
  /** Responses for watch ids the stream does not know (a bug on one side). */
  strays: unknown[];
  ended: unknown;
}

/** A failed comparison, with everything needed to read it. */
export class DifferentialMismatch extends Error {}

/** Both servers, the oracle, and the run's global state. */
export class Differential {
  readonly #sides: [Side, Side];
  readonly #oracle: OracleEvent[] = [];
  #oracleCall: WatchCall | undefined;
  #oracleEnded: unknown;
  #revision = 1;
  #compactRevision = 0;
  readonly #listeners = new Set<() => void>();
  /** The op that made each revision (to explain a watch mismatch). */
  readonly #writers = new Map<number, Where>();
  /** Seeds run so far, in order (a failing seed replays after the same ones). */
  readonly seedsRun: number[] = [];
  opsRun = 0;
  /** Time spent waiting for watch responses, in ms (for the report). */
  waitedMs = 0;
  /** How often each kind of op ended each way ("txn ok", "range OUT_OF_RANGE: ..."). */
  readonly outcomes = new Map<string, number>();

  constructor(etcdEndpoint: string, concordEndpoint: string) {
    this.#sides = [new Side('etcd', etcdEndpoint), new Side('concord', concordEndpoint)];
  }

  /** Grants the leases on both sides and starts the oracle. */
  async open(): Promise<void> {
    const grants = await Promise.all(this.#sides.map((s) => s.grantLeases()));
    this.#check(grants[0], grants[1], { seed: undefined, opIndex: -1, op: 'LeaseGrant x3' });
    const oracle = this.#sides[0].watchStream(
      (r) => {
        for (const e of (r['events'] as Array<{ type: string; kv: { key: Buffer; mod_revision: string } }>) ?? []) {
          this.#oracle.push({ key: e.kv.key, revision: Number(e.kv.mod_revision), type: e.type });
        }
        this.#notify();
      },
      (err) => {
        this.#oracleEnded = err ?? 'ended';
        this.#notify();
      },
    );
    oracle.create({ key: Buffer.from([0]), range_end: Buffer.from([0]), start_revision: 0 });
    this.#oracleCall = oracle;
  }

  close(): void {
    this.#oracleCall?.close();
    for (const s of this.#sides) s.close();
  }

  /** Runs one seed's `ops` operations; throws DifferentialMismatch on the first difference. */
  async runSeed(seed: number, ops: number): Promise<void> {
    const gen = new OpGenerator(seed, `d${seed}/`);
    const watchers: WatcherRecord[] = [];
    const streams = SIDES.map((side) => Array.from({ length: WATCH_STREAMS }, () => this.#openStream(side)));
    try {
      for (let i = 0; i < ops; i++) {
        const ctx: GenContext = { revision: this.#revision, compactRevision: this.#compactRevision, compactCeiling: compactCeiling(watchers), watchers };
        const op = gen.next(ctx);
        const where = { seed, opIndex: i, op };
        switch (op.kind) {
          case 'watch':
            await this.#createWatcher(op, where, streams, watchers);
            break;
          case 'cancelWatch':
            await this.#cancelWatcher(watchers[op.watcher]!, where, streams);
            break;
          case 'compact':
            await this.#waitCaughtUp(watchers);
            await this.#unary(op, where);
            break;
          default:
            await this.#unary(op, where);
        }
        this.opsRun++;
      }
      await this.#waitCaughtUp(watchers);
      for (const w of watchers) this.#compareEvents(seed, w, streams);
      for (const w of watchers) this.#count(`watch events compared: ${w.events[0].length > 0 ? 'some' : 'none'}`);
      this.#count(`watch events total`, watchers.reduce((n, w) => n + w.events[0].length, 0));
      for (const side of SIDES) {
        for (const s of streams[side]!) {
          if (s.strays.length > 0) throw this.#mismatch({ seed, opIndex: ops, op: 'end of seed' }, `${this.#sides[side].name} sent watch responses for unknown watch ids`, s.strays, []);
        }
      }
      this.seedsRun.push(seed);
    } finally {
      for (const side of streams) for (const s of side) s.call.close();
    }
  }

  // ---- unary ops ----

  async #unary(op: Exclude<Op, { kind: 'watch' | 'cancelWatch' }>, where: Where): Promise<void> {
    const method = ({ put: 'Put', deleteRange: 'DeleteRange', txn: 'Txn', range: 'Range', compact: 'Compact' } as const)[op.kind];
    const [etcd, concord] = await Promise.all(this.#sides.map((s) => s.kv(method, op.request)));
    this.#check(canonicalTies(op, etcd!), canonicalTies(op, concord!), where);
    this.#count(`${op.kind} ${'ok' in etcd! ? 'ok' : `${etcd!.error.code}: ${etcd!.error.details}`}`);
    if ('ok' in etcd!) {
      const revision = Number((etcd.ok as { header?: { revision?: string } }).header?.revision ?? 0);
      if (revision > this.#revision) this.#writers.set(revision, where);
      this.#revision = Math.max(this.#revision, revision);
      if (op.kind === 'compact') this.#compactRevision = Number(op.request['revision']);
    }
  }

  // ---- watches ----

  #openStream(side: SideIndex): StreamState {
    const state: StreamState = { call: undefined as never, pending: [], byId: new Map(), strays: [], ended: undefined };
    state.call = this.#sides[side].watchStream(
      (r) => {
        this.#onWatchResponse(side, state, r);
        this.#notify();
      },
      (err) => {
        state.ended = err ?? 'ended';
        this.#notify();
      },
    );
    return state;
  }

  #onWatchResponse(side: SideIndex, state: StreamState, r: Record<string, unknown>): void {
    if (r['created'] === true) {
      // Register at once: events for the new watcher may follow in the same chunk.
      const w = state.pending.shift();
      if (w === undefined) {
        state.strays.push(this.#sides[side].normalize(r));
        return;
      }
      w.created[side] = r;
      if (r['canceled'] !== true) {
        w.watchIds[side] = String(r['watch_id']);
        state.byId.set(String(r['watch_id']), w);
      }
      return;
    }
    const w = state.byId.get(String(r['watch_id']));
    if (w === undefined) {
      state.strays.push(this.#sides[side].normalize(r));
      return;
    }
    const events = (r['events'] as unknown[]) ?? [];
    for (const e of events) w.events[side].push(this.#sides[side].normalize(e));
    if (r['canceled'] === true) w.cancels[side].push(controlFields(this.#sides[side].normalize(r)));
  }

  async #createWatcher(op: Extract<Op, { kind: 'watch' }>, where: Where, streams: StreamState[][], watchers: WatcherRecord[]): Promise<void> {
    const req = op.request;
    const filters = req['filters'] as string[];
    const w: WatcherRecord = {
      opIndex: where.opIndex,
      stream: op.stream,
      streams: SIDES.map((side) => streams[side]![op.stream]!),
      request: req,
      key: req['key'] as Buffer,
      rangeEnd: req['range_end'] as Buffer,
      noPut: filters.includes('NOPUT'),
      noDelete: filters.includes('NODELETE'),
      minRevision: 0,
      maxRevision: Number.MAX_SAFE_INTEGER,
      live: false,
      cancellable: false,
      historical: false,
      atCompactRevision: false,
      created: [undefined, undefined],
      watchIds: [undefined, undefined],
      events: [[], []],
      cancels: [[], []],
    };
    watchers.push(w);
    for (const side of SIDES) {
      streams[side]![op.stream]!.pending.push(w);
      streams[side]![op.stream]!.call.create(req);
    }
    await this.#waitUntil(() => SIDES.every((side) => w.created[side] !== undefined || streams[side]![op.stream]!.ended !== undefined));
    const outcomes = w.created.map((r, side) => (r === undefined ? { noResponse: true } : controlFields(this.#sides[side]!.normalize(r))));
    this.#check(outcomes[0], outcomes[1], where);
    const etcdCreated = w.created[0]!;
    this.#count(`watch ${etcdCreated['canceled'] === true ? String(etcdCreated['cancel_reason']) : 'created'}`);
    if (etcdCreated['canceled'] === true) return;
    w.live = true;
    w.cancellable = true;
    const start = Number(req['start_revision']);
    const createdAt = Number((etcdCreated['header'] as { revision: string }).revision);
    w.minRevision = start === 0 ? createdAt + 1 : start;
    w.historical = start !== 0 && start <= createdAt;
    w.atCompactRevision = start !== 0 && start === this.#compactRevision;
    if (start !== 0 && start < this.#compactRevision) {
      // etcd cancels a watcher that starts before the compacted revision, once it tries to sync.
      w.live = false;
      await this.#waitUntil(() => SIDES.every((side) => w.cancels[side].length > 0 || streams[side]![op.stream]!.ended !== undefined));
      this.#check(w.cancels[0], w.cancels[1], { ...where, op: { ...op, note: 'the compaction response' } });
      this.#count('watch cancelled by compaction');
    }
  }

  async #cancelWatcher(w: WatcherRecord, where: Where, streams: StreamState[][]): Promise<void> {
    if (w.live) {
      await this.#waitCaughtUp([w]);
      w.maxRevision = this.#revision;
    }
    w.live = false;
    w.cancellable = false;
    const before = SIDES.map((side) => w.cancels[side].length);
    for (const side of SIDES) streams[side]![w.stream]!.call.cancel(w.watchIds[side]!);
    await this.#waitUntil(() => SIDES.every((side) => w.cancels[side].length > before[side]! || streams[side]![w.stream]!.ended !== undefined));
    this.#check(w.cancels[0], w.cancels[1], where);
  }

  /** The oracle's events that `w` should receive. */
  #expected(w: WatcherRecord): OracleEvent[] {
    return this.#oracle.filter((e) => {
      if (e.revision < w.minRevision || e.revision > w.maxRevision) return false;
      if ((w.noPut && e.type === 'PUT') || (w.noDelete && e.type === 'DELETE')) return false;
      if (w.atCompactRevision && e.type === 'DELETE' && e.revision === w.minRevision) return false;
      return inRange(e.key, w.key, w.rangeEnd);
    });
  }

  /** Waits until the oracle and every watcher that should get events have caught up. */
  async #waitCaughtUp(watchers: readonly WatcherRecord[]): Promise<void> {
    await this.#waitUntil(() => this.#oracleEnded !== undefined || this.#oracleRevision() >= this.#revision);
    for (const w of watchers) {
      // Not created, cancelled by a request (complete then) or by compaction (no events).
      if (!w.live) continue;
      const want = this.#expected(w).length;
      await this.#waitUntil(() => SIDES.every((side) => w.events[side].length >= want || w.streams[side]!.ended !== undefined));
    }
  }

  #oracleRevision(): number {
    return this.#oracle.length === 0 ? 1 : this.#oracle[this.#oracle.length - 1]!.revision;
  }

  #compareEvents(seed: number, w: WatcherRecord, streams: StreamState[][]): void {
    const where = { seed, opIndex: w.opIndex, op: { kind: 'watch', stream: w.stream, request: w.request, note: 'events at the end of the seed' } };
    const ended = SIDES.map((side) => streams[side]![w.stream]!.ended);
    if (w.atCompactRevision) {
      const atStart = (e: unknown): boolean => {
        const { type, kv } = e as { type: string; kv: { mod_revision: string } };
        return type === 'DELETE' && Number(kv.mod_revision) === w.minRevision;
      };
      const kept = w.events[1].filter(atStart).length - w.events[0].filter(atStart).length;
      if (kept > 0) this.#count('watch: deletes at the compact revision only concord sent (not compared)', kept);
      for (const side of SIDES) w.events[side] = w.events[side].filter((e) => !atStart(e));
    }
    if (!isDeepStrictEqual(w.events[0], w.events[1])) {
      const i = firstDifference(w.events[0], w.events[1]);
      throw this.#mismatch(
        where,
        `watch events differ at event #${i} (etcd has ${w.events[0].length}, concord ${w.events[1].length}` +
          `${ended[1] === undefined ? '' : `; concord's stream ended: ${String(ended[1])}`})`,
        w.events[0].slice(Math.max(0, i - 2), i + 3),
        w.events[1].slice(Math.max(0, i - 2), i + 3),
        this.#writerOf(w.events[0][i] ?? w.events[1][i]),
      );
    }
    this.#check(w.cancels[0], w.cancels[1], { ...where, op: { ...where.op, note: 'canceled responses' } });
  }

  #count(what: string, n = 1): void {
    this.outcomes.set(what, (this.outcomes.get(what) ?? 0) + n);
  }

  // ---- waiting and comparing ----

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }

  /** Waits until `pred` holds, or WATCH_WAIT_MS pass (the comparison after it reports). */
  async #waitUntil(pred: () => boolean): Promise<void> {
    const deadline = Date.now() + WATCH_WAIT_MS;
    const began = Date.now();
    try {
      await this.#waitLoop(pred, deadline);
    } finally {
      this.waitedMs += Date.now() - began;
    }
  }

  async #waitLoop(pred: () => boolean, deadline: number): Promise<void> {
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#listeners.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#listeners.add(wake);
      });
    }
  }

  #check(etcd: unknown, concord: unknown, where: Where): void {
    if (isDeepStrictEqual(etcd, concord)) return;
    throw this.#mismatch(where, `responses differ at ${diffPath(etcd, concord)}`, etcd, concord);
  }

  #mismatch(where: Where, what: string, etcd: unknown, concord: unknown, writer?: Where): DifferentialMismatch {
    const show = (v: unknown): string => JSON.stringify(normalizeWith(v, new Map()), null, 2);
    return new DifferentialMismatch(
      [
        `differential mismatch: seed ${where.seed ?? '-'}, op #${where.opIndex}: ${what}`,
        `(seeds run before on the same servers: ${this.seedsRun.length === 0 ? 'none' : this.seedsRun.join(',')})`,
        `op: ${show(where.op)}`,
        `etcd: ${show(etcd)}`,
        `concord: ${show(concord)}`,
        ...(writer === undefined ? [] : [`the first differing event was written by op #${writer.opIndex} of seed ${writer.seed ?? '-'}: ${show(writer.op)}`]),
      ].join('\n'),
    );
  }

  /** The op that wrote an event's revision, if this run made it. */
  #writerOf(event: unknown): Where | undefined {
    const revision = Number((event as { kv?: { mod_revision?: string } } | undefined)?.kv?.mod_revision);
    return this.#writers.get(revision);
  }
}

interface Where {
  seed: number | undefined;
  opIndex: number;
  op: unknown;
}

/** The fields of a created/canceled watch response that must match (not the event batching). */
function controlFields(r: Record<string, unknown>): unknown {
  const { events: _events, ...rest } = r;
  return rest;
}

const SORT_FIELDS: Record<string, string> = { VERSION: 'version', CREATE: 'create_revision', MOD: 'mod_revision', VALUE: 'value' };

/**
 * NB: etcd sorts a range's kvs with Go's sort.Sort (pdqsort since Go 1.19; /usr/bin/etcd is built
 * with 1.19), which is not stable: kvs with equal sort values come in an order of its own once
 * more than 12 kvs are sorted (the response may hold fewer, after `limit`), and `limit` may cut a
 * tie group anywhere. Concord orders ties by key. So kvs are compared with each tie group ordered
 * by key, and a tie group cut by `limit` (more = true) only by its sort values; inside txns too.
 */
function canonicalTies(op: Op, outcome: Outcome): Outcome {
  if (!('ok' in outcome)) return outcome;
  if (op.kind === 'range') return { ok: canonicalRange(op.request, outcome.ok as RangeOk) };
  if (op.kind === 'txn') return { ok: canonicalTxn(op.request, outcome.ok as TxnOk) };
  return outcome;
}

interface RangeOk {
  kvs: Array<Record<string, unknown>>;
  more: boolean;
}

interface TxnOk {
  succeeded: boolean;
  responses: Array<Record<string, unknown>>;
}

function canonicalTxn(request: Req, res: TxnOk): TxnOk {
  const ops = (res.succeeded ? request['success'] : request['failure']) as Req[];
  const responses = res.responses.map((r, i) => {
    const op = ops[i];
    if (op?.['request_range'] !== undefined && r['response_range'] !== undefined) {
      return { ...r, response_range: canonicalRange(op['request_range'] as Req, r['response_range'] as RangeOk) };
    }
    if (op?.['request_txn'] !== undefined && r['response_txn'] !== undefined) {
      return { ...r, response_txn: canonicalTxn(op['request_txn'] as Req, r['response_txn'] as TxnOk) };
    }
    return r;
  });
  return { ...res, responses };
}

function canonicalRange(request: Req, res: RangeOk): RangeOk {
  const field = SORT_FIELDS[String(request['sort_target'] ?? 'KEY')];
  if (field === undefined) return res;
  const value = (kv: Record<string, unknown>): string => String(kv[field]);
  const groups: Array<Array<Record<string, unknown>>> = [];
  for (const kv of res.kvs) {
    const last = groups[groups.length - 1];
    if (last !== undefined && value(last[0]!) === value(kv)) last.push(kv);
    else groups.push([kv]);
  }
  const byKey = (a: Record<string, unknown>, b: Record<string, unknown>): number => (String(a['key']) < String(b['key']) ? -1 : 1);
  const kvs = groups.flatMap((g, i) => {
    if (res.more && i === groups.length - 1 && g.length > 0) return g.map((kv) => ({ tie: value(kv) }));
    return [...g].sort(byKey);
  });
  return { ...res, kvs: kvs as Array<Record<string, unknown>> };
}

/**
 * The highest revision that cannot cancel a live watcher which may still be catching up: one that
 * started in the past and has not received an event yet (etcd syncs it within 100 ms, moving its
 * start; once it has events it was synced). Watchers that got events, or started now or later, are safe.
 */
function compactCeiling(watchers: readonly WatcherRecord[]): number {
  let ceiling = Number.MAX_SAFE_INTEGER;
  for (const w of watchers) {
    if (w.live && w.historical && w.events[0].length === 0) ceiling = Math.min(ceiling, w.minRevision);
  }
  return ceiling;
}

function inRange(key: Buffer, start: Buffer, end: Buffer): boolean {
  if (end.length === 0) return key.equals(start);
  if (end.length === 1 && end[0] === 0) return Buffer.compare(key, start) >= 0;
  return Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0;
}

function firstDifference(a: unknown[], b: unknown[]): number {
  let i = 0;
  while (i < a.length && i < b.length && isDeepStrictEqual(a[i], b[i])) i++;
  return i;
}

/** The path of the first difference between two values ("$" if they differ as a whole). */
function diffPath(a: unknown, b: unknown, path = '$'): string {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return path;
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const va = (a as Record<string, unknown>)[k];
    const vb = (b as Record<string, unknown>)[k];
    if (!isDeepStrictEqual(va, vb)) return diffPath(va, vb, Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`);
  }
  return path;
}
