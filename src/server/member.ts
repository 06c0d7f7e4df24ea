// A member: drives the Raft core (ticks and the Ready loop), persists through the WAL, applies
// committed entries to the key space and the lessor, answers proposals through the wait table,
// serves linearizable reads through batched ReadIndex, and runs the leader's lease expiry.
// One Ready at a time: persist (one fdatasync), then apply, then advance (DESIGN.md, one write).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SeededRng } from '../util/rng.ts';
import { Lessor, SystemClock, minLeaseTtlSeconds } from '../lease/index.ts';
import { AuxLeaseStore } from './lease-store.ts';
import { type Event, type KeyValue, Store, WatchHub } from '../mvcc/index.ts';
import {
  type ConfState,
  type Entry,
  type Message,
  type Ready,
  RawNode,
  decodeConfChange,
  defaultRaftLimits,
} from '../raft/index.ts';
import type { RangeRequest } from '../proto/index.ts';
import { Applier, type ApplyErrorName, type ApplyResult, applyRange } from './apply.ts';
import { RequestIdGenerator, computeClusterId, computeMemberId } from './ids.ts';
import { ReadIndexError, ReadIndexLoop } from './read-index.ts';
import { type InternalRequest, type InternalRequestKind, decodeRequest, encodeRequest } from './request.ts';
import {
  type DataDirLayout,
  type MemberInfo,
  type OpenedStorage,
  bootstrapStorage,
  dataDirLayout,
  decodeSnapshotData,
  encodeSnapshotData,
  hasWal,
  openStorage,
} from './storage.ts';
import { WaitTable, WaitTimeoutError } from './wait.ts';
import { MemberError } from './errors.ts';
import { failpoint } from './failpoints.ts';
import { type Alarm, AlarmTable } from './alarms.ts';

/** How a member is set up (the server's part of the Config). */
export interface MemberOptions {
  name: string;
  dataDir: string;
  walDir?: string;
  advertiseClientUrls: string[];
  initialAdvertisePeerUrls: string[];
  /** Member name → peer URLs. */
  initialCluster: ReadonlyMap<string, readonly string[]>;
  initialClusterToken: string;
  initialClusterState: 'new' | 'existing';
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  snapshotCount: number;
  snapshotsMax: number;
  walsMax: number;
  /** Backend size above which the NOSPACE alarm is raised (≤ 0: no quota). */
  quotaBackendBytes: number;
  preVote: boolean;
  /** A request larger than this (encoded) is refused with etcd's "request is too large". */
  requestBytesMax?: number;
  /** Where log lines go. */
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

/** Entries kept in memory after a snapshot so slow followers catch up without one (etcd's). */
const SNAPSHOT_CATCHUP_ENTRIES = 5000;
/** Applied may lag committed by this much before proposals get "too many requests" (etcd's). */
const APPLY_LAG_MAX = 5000;
/** Pending proposals at most. */
const WAITERS_MAX = 100_000;
/** How often the backend is flushed (etcd's batch interval). */
const BACKEND_SYNC_INTERVAL_MS = 100;
/** How often the leader looks for expired leases (etcd's). */
const LEASE_EXPIRY_POLL_MS = 500;

/** A response header's fields. */
export interface Header {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

/** The result of a request that went through Raft. */
export interface Applied<T> {
  header: Header;
  response: T;
}

/** A running member. */
export class Member {
  readonly id: bigint;
  readonly clusterId: bigint;
  readonly name: string;
  readonly store: Store;
  readonly lessor: Lessor;
  readonly hub: WatchHub;
  readonly options: MemberOptions;
  readonly #node: RawNode;
  readonly #storage: OpenedStorage;
  readonly #applier: Applier;
  readonly #waits = new WaitTable(WAITERS_MAX);
  readonly #reads: ReadIndexLoop;
  readonly #ids: RequestIdGenerator;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #log: NonNullable<MemberOptions['log']>;
  #members: MemberInfo[];
  #confState: ConfState;
  #term = 0;
  #lead = 0n;
  #committed = 0;
  #applied = 0;
  #snapshotIndex = 0;
  /** The backend's size, refreshed with every backend sync (checked against the quota). */
  #dbSizeBytes = 0;
  readonly #alarms: AlarmTable;
  #running = false;
  #rerun = false;
  #stopping: Promise<void> | undefined;
  #failed: unknown;
  /** Resolves when the in-progress Ready loop run ends. */
  #idle: Promise<void> = Promise.resolve();
  /** Settles when the exclusive() run in progress (defragmentation) ends; the backend is offline. */
  #exclusive: Promise<void> | undefined;

  private constructor(options: MemberOptions, storage: OpenedStorage, store: Store, members: MemberInfo[]) {
    this.options = options;
    this.name = options.name;
    this.#log = options.log ?? (() => undefined);
    this.#storage = storage;
    this.id = storage.identity.memberId;
    this.clusterId = storage.identity.clusterId;
    this.store = store;
    this.#members = members;
    this.#confState = storage.snapshot?.metadata.confState ?? { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    this.#snapshotIndex = storage.snapshot?.metadata.index ?? 0;
    this.#applied = Math.max(this.#snapshotIndex, 0);
    const electionTicks = Math.max(2, Math.round(options.electionTimeoutMs / options.heartbeatIntervalMs));
    const leaseStore = new AuxLeaseStore(store);
    // The lessor deletes a revoked lease's keys through the applier (created just below).
    this.lessor = new Lessor({
      clock: new SystemClock(),
      store: leaseStore,
      keyDeleter: { deleteKeys: (keys) => this.#applier.deleteKeys(keys) },
      minTtlSeconds: minLeaseTtlSeconds({ electionTicks, heartbeatIntervalMs: options.heartbeatIntervalMs }),
    });
    this.#applier = new Applier(store, this.lessor);
    this.#reattachLeases();
    this.hub = new WatchHub(store);
    this.#alarms = new AlarmTable(store);
    this.#dbSizeBytes = store.status().sizeBytes;
    this.#node = new RawNode({
      id: this.id,
      storage: storage.memory,
      electionTicks,
      heartbeatTicks: 1,
      applied: this.#applied,
      msgBytesMax: defaultRaftLimits.msgBytesMax,
      inflightMsgsMax: defaultRaftLimits.inflightMsgsMax,
      uncommittedBytesMax: defaultRaftLimits.uncommittedBytesMax,
      checkQuorum: true,
      preVote: options.preVote,
      rng: new SeededRng(Number(this.id & 0xffff_ffffn) ^ Math.floor(performance.now())),
    });
    this.#ids = new RequestIdGenerator(this.id, Date.now());
    this.#reads = new ReadIndexLoop({
      requestReadIndex: (context) => {
        const res = this.#node.readIndex(context);
        this.#kick();
        return res.ok;
      },
      appliedIndex: () => this.#applied,
    });
  }

  /** Opens (or creates) the member's data and starts it. */
  static async start(options: MemberOptions): Promise<Member> {
    const log = options.log ?? (() => undefined);
    const walLog = (msg: string): void => log('warn', msg);
    const layout: DataDirLayout = dataDirLayout(options.dataDir, options.walDir ?? '');
    let storage: OpenedStorage;
    let members: MemberInfo[];
    if (hasWal(layout)) {
      storage = await openStorage(layout, walLog);
      members = decodeSnapshotData(storage.snapshot?.data ?? new Uint8Array(0)).members;
      log('info', `restarting member ${storage.identity.memberId.toString(16)} in cluster ${storage.identity.clusterId.toString(16)}`);
    } else {
      if (options.initialClusterState === 'existing') {
        throw new MemberError('unsupported', 'joining an existing cluster (--initial-cluster-state existing) needs clustering, which is not available yet');
      }
      members = initialMembers(options);
      const self = members.find((m) => m.name === options.name);
      if (self === undefined) throw new MemberError('bad-config', `couldn't find local name "${options.name}" in the initial cluster configuration`);
      const identity = { memberId: self.id, clusterId: computeClusterId(members.map((m) => m.id)) };
      storage = await bootstrapStorage(layout, identity, members, walLog);
      log('info', `starting member ${identity.memberId.toString(16)} in new cluster ${identity.clusterId.toString(16)}`);
    }
    if (members.length > 1) {
      await storage.wal.close();
      throw new MemberError('unsupported', 'clusters of more than one member need the peer transport, which is not available yet');
    }
    const store = Store.open(layout.dbDir);
    const applied = store.consistentIndex;
    const lastIndex = storage.memory.lastIndex();
    if (applied > lastIndex && members.length === 1) {
      // Replay brings the key space up to the log, never the log up to the key space: the next
      // entries would reuse the lost indexes and apply would skip them as already applied
      // (committed, never applied, never answered). Refuse, as etcd's verify does. NB: a member
      // of a larger cluster may legitimately be ahead (a follower applies entries it is still
      // persisting); the leader sends those same committed entries again and replay skips them.
      await store.close();
      await storage.wal.close();
      throw new Error(
        `server: cannot start from "${options.dataDir}": the key space has applied entry ${applied} ` +
          `but the WAL ends at ${lastIndex} (synced WAL records were lost); restore from a snapshot`,
      );
    }
    const member = new Member(options, storage, store, members);
    member.#start();
    return member;
  }

  #start(): void {
    const tick = setInterval(() => {
      this.#node.tick();
      this.#waits.expire(performance.now());
      this.#kick();
    }, this.options.heartbeatIntervalMs);
    const sync = setInterval(() => {
      // NB: a defragmentation has the backend closed meanwhile; it syncs the new file itself.
      if (this.#exclusive !== undefined) return;
      this.store.sync().catch((err: unknown) => this.#fail(err));
      this.#dbSizeBytes = this.store.status().sizeBytes;
    }, BACKEND_SYNC_INTERVAL_MS);
    const leases = setInterval(() => this.#revokeExpiredLeases(), LEASE_EXPIRY_POLL_MS);
    this.#timers.push(tick, sync, leases);
    // A member that is the only voter need not wait out an election timeout.
    if (this.#confState.voters.length === 1 && this.#confState.voters[0] === this.id) this.#node.campaign();
    this.#kick();
  }

  // ---- the Ready loop ----

  #kick(): void {
    if (this.#running) {
      this.#rerun = true;
      return;
    }
    if (this.#stopping !== undefined || this.#failed !== undefined) return;
    this.#running = true;
    this.#idle = this.#runReady()
      .catch((err: unknown) => this.#fail(err))
      .finally(() => {
        this.#running = false;
      });
  }

  async #runReady(): Promise<void> {
    do {
      this.#rerun = false;
      while (this.#node.hasReady() && this.#failed === undefined) {
        const rd = this.#node.ready();
        await this.#handleReady(rd);
      }
      // Let proposals of this turn of the event loop join the next Ready.
      if (this.#rerun) await new Promise((resolve) => setImmediate(resolve));
    } while (this.#rerun && this.#failed === undefined);
  }

  async #handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.#onSoftState(rd.softState.lead, rd.softState.role);
    if (rd.hardState !== undefined) {
      this.#term = rd.hardState.term;
      this.#committed = rd.hardState.commit;
    }
    this.#send(rd.messages);
    if (rd.snapshot !== undefined) {
      await this.#storage.snapshotter.save(rd.snapshot);
      await this.#storage.wal.saveSnapshotMark(rd.snapshot.metadata);
    }
    let saving: Promise<void> | undefined;
    if (rd.hardState !== undefined || rd.entries.length > 0) {
      failpoint('raftBeforeSave');
      saving = this.#storage.wal.save(rd.hardState, rd.entries, { sync: rd.mustSync });
    }
    // Committed entries are durable on a quorum already (a leader counts itself only for what it
    // has persisted), so they are applied while this Ready's own entries are written, as etcd
    // does. A follower that crashes then holds them in its backend but not in its WAL: the
    // consistent index makes their replay a no-op.
    for (const rs of rd.readStates) this.#reads.onReadState(rs.context, rs.index);
    if (rd.committedEntries.length > 0) this.#apply(rd.committedEntries);
    if (saving !== undefined) {
      await saving;
      failpoint('raftAfterSave');
    }
    if (rd.snapshot !== undefined) this.#storage.memory.applySnapshot(rd.snapshot);
    this.#storage.memory.append(rd.entries);
    if (rd.hardState !== undefined) this.#storage.memory.setHardState(rd.hardState);
    this.#send(rd.messagesAfterPersist);
    this.#node.advance(rd);
    this.#reads.onApplied();
    await this.#maybeSnapshot();
  }

  #send(messages: Message[]): void {
    // A one-member cluster has no peers; clustering brings the transport.
    for (const m of messages) this.#log('debug', `raft: no transport for message ${m.type} to ${m.to.toString(16)}`);
  }

  #onSoftState(lead: bigint, role: string): void {
    const wasLeader = this.#lead === this.id;
    this.#lead = lead;
    const isLeader = role === 'Leader';
    if (isLeader && !wasLeader) {
      this.lessor.promote(this.options.electionTimeoutMs);
      this.#log('info', `${this.id.toString(16)} became leader`);
    } else if (!isLeader && wasLeader) {
      this.lessor.demote();
    }
    if (lead === 0n) this.#reads.retryInflight();
  }

  // ---- apply ----

  #apply(entries: Entry[]): void {
    const results: Array<{ id: bigint; result: ApplyResult }> = [];
    const consistent = this.store.consistentIndex;
    failpoint('beforeApplyBatch');
    this.store.batch(() => {
      for (const entry of entries) {
        if (entry.type === 'ConfChange') {
          // Raft's configuration lives in memory: a replayed change must reach it again.
          this.#applyConfChange(entry);
          if (entry.index > consistent) this.#applier.applyNothing(entry.index);
        } else if (entry.index <= consistent) {
          continue; // replayed: already in the backend
        } else if (entry.data.length === 0) {
          this.#applier.applyNothing(entry.index);
        } else {
          const req = decodeRequest(entry.data);
          const result = this.#applyRequest(entry.index, req);
          if (this.#waits.isWaiting(req.id)) results.push({ id: req.id, result });
        }
      }
      failpoint('backendBeforeCommit');
    });
    failpoint('afterApplyBatch');
    const last = entries[entries.length - 1]!;
    this.#applied = last.index;
    const events = this.#applier.takeEvents();
    if (events.length > 0) this.hub.notify(events, this.store.currentRevision);
    for (const { id, result } of results) this.#waits.trigger(id, result);
  }

  #applyRequest(index: number, req: InternalRequest): ApplyResult {
    if (this.#alarmed() && (req.kind === 'put' || req.kind === 'txn' || req.kind === 'leaseGrant')) {
      // NOSPACE: only reads, deletes and compactions go through until the alarm is disarmed.
      if (req.kind !== 'txn' || txnWrites(req.request)) {
        this.#applier.applyNothing(index);
        return { ok: false, error: 'noSpace' };
      }
    }
    if (req.kind === 'alarm') return this.#applyAlarm(index, req);
    return this.#applier.apply(index, req);
  }

  #applyConfChange(entry: Entry): void {
    const cc = decodeConfChange(entry.data);
    try {
      this.#confState = this.#node.applyConfChange(cc);
    } catch (err) {
      this.#log('warn', `raft: configuration change at ${entry.index} refused: ${(err as Error).message}`);
    }
  }

  // ---- alarms (NOSPACE) ----

  #alarmed(): boolean {
    return this.#alarms.active();
  }

  /** Active alarms: (member id, alarm type) pairs. */
  alarms(): Alarm[] {
    return this.#alarms.list();
  }

  #applyAlarm(index: number, req: Extract<InternalRequest, { kind: 'alarm' }>): ApplyResult {
    const changed = this.#alarms.apply(req.request);
    this.#applier.applyNothing(index);
    return { ok: true, revision: this.store.currentRevision, response: { alarms: changed } };
  }

  /** Raises NOSPACE when the backend passed its quota (called before writes). */
  #checkQuota(): void {
    const quota = this.options.quotaBackendBytes;
    if (quota <= 0 || this.#alarmed()) return;
    if (this.#dbSizeBytes <= quota) return;
    this.#log('warn', `backend size passed the quota of ${quota} bytes: raising the NOSPACE alarm`);
    void this.propose('alarm', { action: 1, memberID: this.id, alarm: 1 }).catch(() => undefined);
  }

  // ---- snapshots ----

  async #maybeSnapshot(): Promise<void> {
    if (this.#applied - this.#snapshotIndex <= this.options.snapshotCount) return;
    const index = this.#applied;
    failpoint('beforeSnapshot');
    // The backend must hold everything up to `index` durably before the WAL before it may go.
    await this.store.sync();
    const data = encodeSnapshotData({ members: this.#members });
    const snapshot = this.#storage.memory.createSnapshot(index, this.#confState, data);
    await this.#storage.snapshotter.save(snapshot);
    failpoint('snapshotBeforeMark');
    await this.#storage.wal.saveSnapshotMark(snapshot.metadata);
    failpoint('afterSnapshotBeforeWalPurge');
    this.#snapshotIndex = index;
    const compactTo = index - SNAPSHOT_CATCHUP_ENTRIES;
    if (compactTo > this.#storage.memory.firstIndex()) this.#storage.memory.compact(compactTo);
    this.#storage.wal.releaseTo(index);
    await this.#storage.wal.purge({ maxSegments: this.options.walsMax });
    await this.#storage.snapshotter.purge({ maxSnapshots: this.options.snapshotsMax });
    this.#log('info', `saved snapshot at index ${index}`);
  }

  // ---- leases ----

  #revokeExpiredLeases(): void {
    if (this.#lead !== this.id || this.#stopping !== undefined) return;
    for (const id of this.lessor.expiredLeases()) {
      this.propose('leaseRevoke', { ID: id }).catch((err: unknown) => {
        this.#log('warn', `lease ${id.toString(16)}: revoke failed: ${(err as Error).message}`);
      });
    }
  }

  /** After a restart, leases learn their keys again from the key space. */
  #reattachLeases(): void {
    if (this.lessor.leases().length === 0) return;
    const all = this.store.range(new Uint8Array([0]), new Uint8Array([0]));
    for (const kv of all.kvs) if (kv.lease !== 0n) this.lessor.attach(kv.lease, [kv.key]);
  }

  // ---- requests ----

  /** Proposes a request and waits for its apply. Rejects with MemberError. */
  async propose<K extends InternalRequestKind>(
    kind: K,
    request: Parameters<typeof encodeRequest<K>>[2],
    options: { signal?: AbortSignal } = {},
  ): Promise<Applied<unknown>> {
    this.#checkUsable();
    await this.backendOnline();
    if (this.#committed - this.#applied > APPLY_LAG_MAX || this.#waits.full()) throw new MemberError('too-many-requests');
    if (kind === 'put' || kind === 'txn' || kind === 'leaseGrant') this.#checkQuota();
    const id = this.#ids.next();
    const data = encodeRequest(kind, id, request);
    if (data.length > (this.options.requestBytesMax ?? 1.5 * 1024 * 1024)) throw new MemberError('request-too-large');
    const wait = this.#waits.register<ApplyResult>(id, options.signal, performance.now() + this.requestTimeoutMs());
    const res = this.#node.propose(data);
    if (!res.ok) {
      this.#waits.fail(id, new MemberError(res.reason === 'no-leader' ? 'no-leader' : 'dropped'));
    }
    this.#kick();
    let result: ApplyResult;
    try {
      result = await wait;
    } catch (err) {
      if (err instanceof MemberError) throw err;
      if (err instanceof WaitTimeoutError) throw new MemberError(this.#lead === 0n ? 'no-leader' : 'timeout');
      throw new MemberError('cancelled');
    }
    if (!result.ok) throw new MemberError(result.error);
    if (result.compaction !== undefined && kind === 'compaction' && (request as { physical?: boolean }).physical === true) {
      await result.compaction;
    }
    return { header: this.header(result.revision), response: result.response };
  }

  /** A range: linearizable (ReadIndex) unless serializable. */
  async range(request: RangeRequest, options: { signal?: AbortSignal } = {}): Promise<Applied<{ kvs: KeyValue[]; more: boolean; count: number }>> {
    this.#checkUsable();
    if (!request.serializable) await this.linearizableBarrier(options);
    await this.backendOnline();
    try {
      const { revision, ...rest } = applyRange(this.store, request);
      return { header: this.header(revision), response: rest };
    } catch (err) {
      const name = (err as { errorName?: ApplyErrorName }).errorName;
      if (name !== undefined) throw new MemberError(name);
      throw err;
    }
  }

  /** Waits until a read served now is linearizable. */
  async linearizableBarrier(options: { signal?: AbortSignal } = {}): Promise<void> {
    const timeout = sleep(this.requestTimeoutMs(), undefined, { ref: false, ...(options.signal === undefined ? {} : { signal: options.signal }) }).then(() => {
      throw new MemberError(this.#lead === 0n ? 'no-leader' : 'timeout');
    });
    try {
      await Promise.race([this.#reads.wait(), timeout]);
    } catch (err) {
      if (err instanceof ReadIndexError) throw new MemberError(err.code === 'no-leader' ? 'no-leader' : 'stopped');
      if (err instanceof MemberError) throw err;
      throw new MemberError('cancelled');
    }
  }

  /** etcd's request timeout: 5 s plus two election timeouts. */
  requestTimeoutMs(): number {
    return 5000 + 2 * this.options.electionTimeoutMs;
  }

  /** A response header at `revision` (the current one by default). */
  header(revision = this.store.currentRevision): Header {
    return { clusterId: this.clusterId, memberId: this.id, revision, raftTerm: this.#term };
  }

  /**
   * Runs `fn` with the Ready loop paused (nothing is applied meanwhile): for defragmentation,
   * which takes the key space offline while it rewrites the file. One at a time; reads, proposals
   * and the backend sync timer wait for it (etcd blocks them during a defrag too).
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#checkUsable();
    // NB: check both on every turn: another exclusive run may have started while we waited.
    for (;;) {
      if (this.#exclusive !== undefined) await this.#exclusive;
      else if (this.#running) await this.#idle;
      else break;
    }
    this.#running = true;
    const run = fn();
    this.#exclusive = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      this.#exclusive = undefined;
      this.#running = false;
      this.#kick();
    }
  }

  /** Resolves once no exclusive() run (defragmentation) has the backend offline. */
  async backendOnline(): Promise<void> {
    while (this.#exclusive !== undefined) await this.#exclusive;
  }

  /** Renews a lease (leader only). */
  leaseRenew(id: bigint): number {
    this.#checkUsable();
    return this.lessor.renew(id);
  }

  /** Raft's view, for Status. */
  raftStatus(): { leader: bigint; term: number; committed: number; applied: number; isLearner: boolean } {
    return { leader: this.#lead, term: this.#term, committed: this.#committed, applied: this.#applied, isLearner: false };
  }

  /** The cluster's members. */
  members(): MemberInfo[] {
    return this.#members.map((m) => ({ ...m, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls] }));
  }

  isLeader(): boolean {
    return this.#lead === this.id;
  }

  #checkUsable(): void {
    if (this.#failed !== undefined) throw new MemberError('stopped');
    if (this.#stopping !== undefined) throw new MemberError('stopped');
  }

  #fail(err: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = err;
    this.#log('error', `member stopped by a fatal error: ${(err as Error).stack ?? String(err)}`);
    this.#waits.failAll(new MemberError('stopped'));
    this.#reads.stop();
  }

  /** The fatal error that stopped the member, if any. */
  get failure(): unknown {
    return this.#failed;
  }

  /** Stops accepting, finishes the Ready in progress, syncs and closes everything. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await this.backendOnline();
    await this.#idle;
    this.#waits.failAll(new MemberError('stopped'));
    this.#reads.stop();
    await this.hub.close();
    await this.lessor.close();
    await this.store.sync().catch(() => undefined);
    await this.#storage.wal.close();
    await this.store.close();
  }
}

/** Events and KeyValues are what watchers and ranges return. */
export type { Event, KeyValue };

function initialMembers(options: MemberOptions): MemberInfo[] {
  const members: MemberInfo[] = [];
  for (const [name, urls] of options.initialCluster) {
    members.push({
      id: computeMemberId(urls, options.initialClusterToken),
      name,
      peerUrls: [...urls],
      clientUrls: name === options.name ? [...options.advertiseClientUrls] : [],
      isLearner: false,
    });
  }
  return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function txnWrites(t: { success: Array<{ requestPut?: unknown; requestTxn?: unknown }>; failure: Array<{ requestPut?: unknown; requestTxn?: unknown }> }): boolean {
  return [...t.success, ...t.failure].some((op) => op.requestPut !== undefined || op.requestTxn !== undefined);
}
