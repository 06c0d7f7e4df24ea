// A member: drives the Raft core (ticks and the Ready loop), persists through the WAL, applies
// committed entries to the key space and the lessor, answers proposals through the wait table,
// serves linearizable reads through batched ReadIndex, and runs the leader's lease expiry.
// One Ready at a time: persist (one fdatasync), then apply, then advance (DESIGN.md, one write).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SeededRng } from '../util/rng.ts';
import { Lessor, SystemClock, isLeaseError, minLeaseTtlSeconds } from '../lease/index.ts';
import { AuxLeaseStore } from './lease-store.ts';
import { type Event, type KeyValue, Store, WatchHub } from '../mvcc/index.ts';
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  type Message,
  type Ready,
  type Snapshot,
  RawNode,
  decodeConfChange,
  defaultRaftLimits,
} from '../raft/index.ts';
import type { RangeRequest } from '../proto/index.ts';
import { Applier, type ApplyErrorName, type ApplyResult, applyRange } from './apply.ts';
import { RequestIdGenerator, computeMemberId } from './ids.ts';
import { ReadIndexError, ReadIndexLoop } from './read-index.ts';
import { type InternalRequest, type InternalRequestKind, decodeRequest, encodeRequest } from './request.ts';
import { PeerTransport, type PeerTlsOptions, type TransportError, TransportErrorCode, isTransportError } from '../transport/index.ts';
import { Membership, decodeChangeContext, encodeChangeContext } from './membership.ts';
import { type ReconfigRefusal, type ReconfigView, checkAdd, checkPeerUrls, checkPromote, checkRemove, validateAtApply } from './reconfig.ts';
import { copyBackend, purgeSnapshotDbs, saveSnapshotDb, snapshotDbPath } from './snapshot-files.ts';
import { openMemberData } from './bootstrap.ts';
import {
  type LeaseTimeToLive,
  PeerMethod,
  decodeTimeToLive,
  decodeTtl,
  encodeTimeToLive,
  encodeTtl,
  encodeTtlRequest,
  idBytes,
  readId,
} from './peer-requests.ts';
import { type MemberInfo, type OpenedStorage, encodeSnapshotData } from './storage.ts';
import { WaitTable, WaitTimeoutError } from './wait.ts';
import { MemberError, type MemberErrorCode } from './errors.ts';
import { failpoint } from './failpoints.ts';
import { type Alarm, AlarmTable } from './alarms.ts';

/** How a member is set up (the server's part of the Config). */
export interface MemberOptions {
  name: string;
  dataDir: string;
  walDir?: string;
  advertiseClientUrls: string[];
  initialAdvertisePeerUrls: string[];
  /** Where peers connect (--listen-peer-urls; port 0 picks one). */
  listenPeerUrls: string[];
  /** Peer TLS (https:// peer URLs need it). */
  peerTls?: PeerTlsOptions | undefined;
  /** Refuse membership changes that could cost the quorum (etcd's --strict-reconfig-check, default on). */
  strictReconfigCheck?: boolean;
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
/** ReadIndex rounds without an answer are asked again this often (etcd's read retry). */
const READ_INDEX_RETRY_MS = 500;
/** A member tries to publish its name and client URLs this often until it succeeds. */
const PUBLISH_RETRY_MS = 500;
/** How often a request waiting for a leader looks again. */
const LEADER_POLL_MS = 20;

/**
 * NB: test-only switches that break safety on purpose, so the chaos harness can prove it notices:
 * acknowledge writes a quorum has not persisted, and serve linearizable reads without ReadIndex.
 */
const unsafeAckBeforeDurable = process.env['CONCORD_UNSAFE_ACK_BEFORE_DURABLE'] === '1';
const unsafeReadsWithoutReadIndex = process.env['CONCORD_UNSAFE_READS_WITHOUT_READINDEX'] === '1';

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
  readonly #membership: Membership;
  readonly #transport: PeerTransport;
  #confState: ConfState;
  /** Configurations by the index they took effect at, since the last snapshot (for snapshots sent). */
  #confHistory: Array<{ index: number; confState: ConfState }> = [];
  /** Peers a snapshot is being streamed to. */
  readonly #snapshotsSending = new Set<bigint>();
  /** The members the transport streams to (every member but this one). */
  #peerIds = new Set<bigint>();
  #published = false;
  #publishing = false;
  /** A round of lease revokes is confirming leadership. */
  #revokingLeases = false;
  #removed = false;
  #resolveDone!: (reason: { removed: boolean; error?: unknown }) => void;
  #resolveReady!: () => void;
  /** Resolves once this member's name and client URLs are published through the cluster. */
  readonly ready = new Promise<void>((resolve) => {
    this.#resolveReady = resolve;
  });
  /** Settles when the member stopped by itself: removed from the cluster, or a fatal error. */
  readonly done = new Promise<{ removed: boolean; error?: unknown }>((resolve) => {
    this.#resolveDone = resolve;
  });
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

  private constructor(options: MemberOptions, storage: OpenedStorage, store: Store, membership: Membership) {
    this.options = options;
    this.name = options.name;
    this.#log = options.log ?? (() => undefined);
    this.#storage = storage;
    this.id = storage.identity.memberId;
    this.clusterId = storage.identity.clusterId;
    this.store = store;
    this.#membership = membership;
    this.#confState = storage.snapshot?.metadata.confState ?? { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    this.#snapshotIndex = storage.snapshot?.metadata.index ?? 0;
    this.#confHistory = [{ index: this.#snapshotIndex, confState: this.#confState }];
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
      ...(unsafeAckBeforeDurable ? { faults: { commitAlone: true } } : {}),
    });
    this.#ids = new RequestIdGenerator(this.id, Date.now());
    this.#reads = new ReadIndexLoop({
      requestReadIndex: (context) => {
        // With no leader the round waits (asked again when one is known, and every
        // READ_INDEX_RETRY_MS); the reader's own deadline bounds the wait.
        if (this.#lead === 0n) return true;
        this.#node.readIndex(context);
        this.#kick();
        return true;
      },
      appliedIndex: () => this.#applied,
    });
    this.#transport = new PeerTransport({
      memberId: this.id,
      clusterId: this.clusterId,
      listenUrls: options.listenPeerUrls,
      ...(options.peerTls === undefined ? {} : { tls: options.peerTls }),
      onMessages: (batch) => this.#onPeerMessages(batch),
      onSnapshot: (msg, body) => this.#onPeerSnapshot(msg, body),
      onUnreachable: (id) => this.#node.reportUnreachable(id),
      onSnapshotStatus: (id, ok) => {
        this.#node.reportSnapshot(id, ok);
        this.#kick();
      },
      onPeerRequest: (from, method, body, context) => this.#onPeerRequest(from, method, body, context.signal),
      isRemoved: (id) => this.#membership.isRemoved(id),
      // A member removed while it was down or cut off learns it from its peers (etcd's 410).
      onRemoved: (by) => {
        this.#log('warn', `member ${by.toString(16)} says this member was removed from the cluster`);
        this.#stopRemoved();
      },
      members: () => this.#membership.list().map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner })),
      log: (level, msg) => this.#log(level, msg),
    });
  }

  /** Opens (or creates) the member's data and starts it. */
  static async start(options: MemberOptions): Promise<Member> {
    const { storage, store, membership } = await openMemberData(options);
    try {
      const member = new Member(options, storage, store, membership);
      try {
        await member.#transport.start();
      } catch (err) {
        await member.#transport.close();
        throw err;
      }
      member.#start();
      return member;
    } catch (err) {
      await store.close();
      await storage.wal.close();
      throw err;
    }
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
    const reads = setInterval(() => {
      if (this.#reads.inflightCount() > 0) this.#reads.retryInflight();
    }, READ_INDEX_RETRY_MS);
    const publish = setInterval(() => this.#publish(), PUBLISH_RETRY_MS);
    this.#timers.push(tick, sync, leases, reads, publish);
    this.#syncPeers();
    // A member that is the only voter need not wait out an election timeout.
    if (this.#confState.voters.length === 1 && this.#confState.voters[0] === this.id) this.#node.campaign();
    this.#kick();
  }

  // ---- peers ----

  /** The transport's peers follow the membership: every member but this one. */
  #syncPeers(): void {
    const members = this.#membership.list().filter((m) => m.id !== this.id);
    const wanted = new Set(members.map((m) => m.id));
    for (const id of this.#peerIds) if (!wanted.has(id)) this.#transport.removePeer(id);
    for (const m of members) this.#transport.updatePeer(m.id, m.peerUrls);
    this.#peerIds = wanted;
  }

  #onPeerMessages(batch: Message[]): void {
    if (this.#stopping !== undefined || this.#failed !== undefined) return;
    for (const m of batch) {
      try {
        this.#node.step(m);
      } catch (err) {
        this.#log('warn', `raft: dropped a ${m.type} message from ${m.from.toString(16)}: ${(err as Error).message}`);
      }
    }
    this.#kick();
  }

  /** A snapshot from the leader: its database is saved first, then Raft hears of it. */
  async #onPeerSnapshot(msg: Message, body: AsyncIterable<Uint8Array>): Promise<void> {
    this.#checkUsable();
    const index = msg.snapshot?.metadata.index ?? 0;
    this.#log('info', `receiving snapshot [index ${index}] from ${msg.from.toString(16)}`);
    await saveSnapshotDb(this.#storage.snapshotter.dir, index, body);
    this.#onPeerMessages([msg]);
  }

  /**
   * Streams a snapshot of the key space as it is now (not the older Raft snapshot the core
   * asked for, as etcd merges them): a new member then always finds itself in its configuration.
   */
  async #sendSnapshot(m: Message): Promise<void> {
    if (this.#snapshotsSending.has(m.to)) return;
    this.#snapshotsSending.add(m.to);
    let handedOver = false;
    try {
      await this.backendOnline();
      const copy = await copyBackend(this.store);
      try {
        const index = copy.consistentIndex;
        const metadata = { index, term: this.#storage.memory.term(index), confState: this.#confAt(index) };
        const snapshot = { metadata, data: encodeSnapshotData({ members: this.#membership.list() }) };
        this.#log('info', `sending snapshot [index ${index}, ${copy.sizeBytes} bytes] to ${m.to.toString(16)}`);
        handedOver = true;
        await this.#transport.sendSnapshot({ ...m, snapshot }, () => copy.chunks());
      } finally {
        await copy.dispose();
      }
    } catch (err) {
      this.#log('warn', `snapshot to ${m.to.toString(16)} failed: ${(err as Error).message}`);
      if (!handedOver) {
        this.#node.reportSnapshot(m.to, false);
        this.#kick();
      }
    } finally {
      this.#snapshotsSending.delete(m.to);
    }
  }

  /** The configuration in force at `index` (at or after the last snapshot). */
  #confAt(index: number): ConfState {
    let found = this.#confHistory[0]!.confState;
    for (const h of this.#confHistory) if (h.index <= index) found = h.confState;
    return found;
  }

  // ---- publishing this member's attributes ----

  /** Proposes this member's name and client URLs until one proposal is applied (etcd's publish). */
  #publish(): void {
    if (this.#published || this.#publishing || this.#lead === 0n || this.#stopping !== undefined) return;
    const self = this.#membership.get(this.id);
    if (self === undefined) return; // not yet known here (a joining member before its snapshot)
    this.#publishing = true;
    const attributes = { ID: this.id, name: this.name, clientURLs: this.options.advertiseClientUrls };
    this.propose('memberAttributes', attributes).then(
      () => {
        this.#published = true;
        this.#resolveReady();
        this.#log('info', `published {Name:${this.name} ClientURLs:[${this.options.advertiseClientUrls.join(' ')}]} to cluster ${this.clusterId.toString(16)}`);
      },
      (err: unknown) => this.#log('debug', `publish failed (will retry): ${(err as Error).message}`),
    ).finally(() => {
      this.#publishing = false;
    });
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
      if (rd.snapshot.metadata.index > this.store.consistentIndex) await this.#installSnapshot(rd.snapshot);
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
    if (messages.length === 0) return;
    if (!messages.some((m) => m.type === 'Snap')) {
      this.#transport.send(messages);
      return;
    }
    this.#transport.send(messages.filter((m) => m.type !== 'Snap'));
    for (const m of messages) if (m.type === 'Snap') void this.#sendSnapshot(m);
  }

  /**
   * Replaces the key space with the snapshot's database (received before Raft stepped it), then
   * everything derived from the key space: membership, alarms, leases, watchers, peers.
   */
  async #installSnapshot(snapshot: Snapshot): Promise<void> {
    const index = snapshot.metadata.index;
    const path = snapshotDbPath(this.#storage.snapshotter.dir, index);
    failpoint('beforeSnapshotInstall');
    const restore = this.store.restoreFrom(path);
    this.#exclusive = restore.then(
      () => undefined,
      () => undefined,
    );
    try {
      await restore;
    } finally {
      this.#exclusive = undefined;
    }
    this.#membership.reload();
    this.#alarms.reload();
    this.lessor.recover(new AuxLeaseStore(this.store));
    this.#reattachLeases();
    this.hub.rebase();
    this.#applied = index;
    this.#snapshotIndex = index;
    this.#confState = snapshot.metadata.confState;
    this.#confHistory = [{ index, confState: this.#confState }];
    this.#dbSizeBytes = this.store.status().sizeBytes;
    this.#syncPeers();
    this.#log('info', `applied snapshot [index ${index}, term ${snapshot.metadata.term}] from the leader: key space at revision ${this.store.currentRevision}`);
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
    // Rounds asked while there was no leader (or of a leader that is gone) go to the new one.
    if (lead !== 0n) this.#reads.retryInflight();
    if (lead !== 0n && !this.#published) setImmediate(() => this.#publish());
  }

  // ---- apply ----

  #apply(entries: Entry[]): void {
    const results: Array<{ id: bigint; result: MemberApplyResult }> = [];
    const consistent = this.store.consistentIndex;
    let membershipChanged = false;
    failpoint('beforeApplyBatch');
    this.store.batch(() => {
      for (const entry of entries) {
        if (entry.type === 'ConfChange') {
          // Raft's configuration lives in memory: a replayed change must reach it again.
          const { requestId, result } = this.#applyConfChange(entry, entry.index > consistent);
          membershipChanged = true;
          if (entry.index > consistent) this.#applier.applyNothing(entry.index);
          if (this.#waits.isWaiting(requestId)) results.push({ id: requestId, result });
        } else if (entry.index <= consistent) {
          continue; // replayed: already in the backend
        } else if (entry.data.length === 0) {
          this.#applier.applyNothing(entry.index);
        } else {
          const req = decodeRequest(entry.data);
          const result = this.#applyRequest(entry.index, req);
          if (req.kind === 'memberUpdate') membershipChanged = true;
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
    if (membershipChanged) this.#syncPeers();
    if (this.#removed) this.#stopRemoved();
  }

  #applyRequest(index: number, req: InternalRequest): MemberApplyResult {
    if (this.#alarmed() && (req.kind === 'put' || req.kind === 'txn' || req.kind === 'leaseGrant')) {
      // NOSPACE: only reads, deletes and compactions go through until the alarm is disarmed.
      if (req.kind !== 'txn' || txnWrites(req.request)) {
        this.#applier.applyNothing(index);
        return { ok: false, error: 'noSpace' };
      }
    }
    if (req.kind === 'alarm') return this.#applyAlarm(index, req);
    if (req.kind === 'memberAttributes' || req.kind === 'memberUpdate') return this.#applyMemberRequest(index, req);
    return this.#applier.apply(index, req);
  }

  /** A member's published attributes, or its new peer URLs (MemberUpdate). */
  #applyMemberRequest(index: number, req: Extract<InternalRequest, { kind: 'memberAttributes' | 'memberUpdate' }>): MemberApplyResult {
    const m = this.#membership.get(req.request.ID);
    this.#applier.applyNothing(index);
    if (m === undefined) return { ok: false, error: 'memberNotFound' };
    if (req.kind === 'memberAttributes') {
      this.#membership.put({ ...m, name: req.request.name, clientUrls: [...req.request.clientURLs] });
    } else {
      if (this.#membership.findByPeerUrls(req.request.peerURLs, m.id) !== undefined) return { ok: false, error: 'peerUrlExist' };
      this.#membership.put({ ...m, peerUrls: [...req.request.peerURLs] });
    }
    return { ok: true, revision: this.store.currentRevision, response: { members: this.#membership.list() } };
  }

  /**
   * A configuration change: validated against the membership (deterministically on every
   * member; a refused change is recorded so that its replay is refused too), then applied to
   * Raft and, the first time, to the membership table.
   */
  #applyConfChange(entry: Entry, fresh: boolean): { requestId: bigint; result: MemberApplyResult } {
    const cc = decodeConfChange(entry.data);
    const { requestId, member } = decodeChangeContext(cc.context);
    let refusal: ReconfigRefusal | undefined;
    if (fresh) {
      for (const change of cc.changes) {
        const isRemoved = (id: bigint): boolean => this.#membership.isRemoved(id);
        refusal = validateAtApply(this.#membership.list(), isRemoved, { type: change.type, nodeId: change.nodeId, member });
        if (refusal !== undefined) break;
      }
      if (refusal !== undefined) this.#membership.markRefused(entry.index);
    } else if (this.#membership.wasRefused(entry.index)) {
      refusal = 'memberNotFound';
    }
    if (refusal === undefined) {
      try {
        this.#confState = this.#node.applyConfChange(cc);
        this.#confHistory.push({ index: entry.index, confState: this.#confState });
      } catch (err) {
        this.#log('warn', `raft: configuration change at ${entry.index} refused: ${(err as Error).message}`);
        return { requestId, result: { ok: false, error: 'memberNotFound' } };
      }
      if (fresh) this.#applyMembershipChanges(cc.changes, member);
    } else if (fresh) {
      this.#log('warn', `configuration change at ${entry.index} refused: ${refusal}`);
    }
    if (refusal !== undefined) return { requestId, result: { ok: false, error: refusal } };
    return { requestId, result: { ok: true, revision: this.store.currentRevision, response: { members: this.#membership.list() } } };
  }

  #applyMembershipChanges(changes: ReadonlyArray<{ type: string; nodeId: bigint }>, member: MemberInfo | undefined): void {
    for (const change of changes) {
      const existing = this.#membership.get(change.nodeId);
      if (change.type === 'RemoveNode') {
        this.#membership.remove(change.nodeId);
        this.#log('info', `removed member ${change.nodeId.toString(16)} from cluster ${this.clusterId.toString(16)}`);
        if (change.nodeId === this.id) this.#removed = true;
        continue;
      }
      const isLearner = change.type === 'AddLearnerNode';
      if (existing !== undefined) {
        this.#membership.put({ ...existing, isLearner });
        this.#log('info', `promoted member ${change.nodeId.toString(16)} in cluster ${this.clusterId.toString(16)}`);
      } else {
        const base = member ?? { id: change.nodeId, name: '', peerUrls: [], clientUrls: [], isLearner };
        this.#membership.put({ ...base, id: change.nodeId, isLearner });
        this.#log('info', `added member ${change.nodeId.toString(16)} [${base.peerUrls.join(' ')}] to cluster ${this.clusterId.toString(16)}${isLearner ? ' as a learner' : ''}`);
      }
    }
  }

  /** This member was removed from the cluster: it stops by itself, as etcd's does. */
  #stopRemoved(): void {
    if (this.#stopping !== undefined) return;
    this.#log('warn', 'the member has been permanently removed from the cluster; stopping');
    // NB: not awaited here: stop() waits for the Ready loop, which is what called us.
    setImmediate(() => {
      this.stop().then(
        () => this.#resolveDone({ removed: true }),
        (error: unknown) => this.#resolveDone({ removed: true, error }),
      );
    });
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
    const data = encodeSnapshotData({ members: this.#membership.list() });
    const snapshot = this.#storage.memory.createSnapshot(index, this.#confState, data);
    await this.#storage.snapshotter.save(snapshot);
    failpoint('snapshotBeforeMark');
    await this.#storage.wal.saveSnapshotMark(snapshot.metadata);
    failpoint('afterSnapshotBeforeWalPurge');
    this.#snapshotIndex = index;
    const kept = this.#confHistory.filter((h) => h.index > index);
    this.#confHistory = [{ index, confState: this.#confAt(index) }, ...kept];
    await purgeSnapshotDbs(this.#storage.snapshotter.dir, index);
    const compactTo = index - SNAPSHOT_CATCHUP_ENTRIES;
    if (compactTo > this.#storage.memory.firstIndex()) this.#storage.memory.compact(compactTo);
    this.#storage.wal.releaseTo(index);
    await this.#storage.wal.purge({ maxSegments: this.options.walsMax });
    await this.#storage.snapshotter.purge({ maxSnapshots: this.options.snapshotsMax });
    this.#log('info', `saved snapshot at index ${index}`);
  }

  // ---- leases ----

  #revokeExpiredLeases(): void {
    if (this.#lead !== this.id || this.#stopping !== undefined || this.#revokingLeases) return;
    const expired = this.lessor.expiredLeases();
    if (expired.length === 0) return;
    this.#revokingLeases = true;
    void this.#revokeIfStillLeader(expired, this.#term).finally(() => {
      this.#revokingLeases = false;
    });
  }

  /**
   * A leader that was paused or cut off may wake up deposed, its lease clocks run out while the
   * new leader renewed those leases: it first confirms that it is still the leader of the term
   * it decided in (a ReadIndex round, as etcd 3.5 does), then proposes the revokes as that
   * leader only — never forwarded to another member, never retried under a new leader.
   */
  async #revokeIfStillLeader(ids: readonly bigint[], term: number): Promise<void> {
    try {
      await this.linearizableBarrier();
    } catch {
      return;
    }
    if (this.#lead !== this.id || this.#term !== term) return;
    for (const id of ids) {
      if (this.lessor.lookup(id) === undefined) continue;
      this.propose('leaseRevoke', { ID: id }, { leaderOnly: true }).catch((err: unknown) => {
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
    options: { signal?: AbortSignal; leaderOnly?: boolean } = {},
  ): Promise<Applied<unknown>> {
    this.#checkUsable();
    await this.backendOnline();
    if (this.#committed - this.#applied > APPLY_LAG_MAX || this.#waits.full()) throw new MemberError('too-many-requests');
    if (kind === 'put' || kind === 'txn' || kind === 'leaseGrant') this.#checkQuota();
    const id = this.#ids.next();
    const data = encodeRequest(kind, id, request);
    if (data.length > (this.options.requestBytesMax ?? 1.5 * 1024 * 1024)) throw new MemberError('request-too-large');
    const result = await this.#proposeAndWait(id, (d) => this.#node.propose(d), data, options.signal, options.leaderOnly === true);
    if (!result.ok) throw new MemberError(result.error);
    if (result.compaction !== undefined && kind === 'compaction' && (request as { physical?: boolean }).physical === true) {
      await result.compaction;
    }
    return { header: this.header(result.revision), response: result.response };
  }

  /**
   * Proposes `data` (whose apply answers waiter `id`) and waits for its apply. With no leader it
   * waits for one, up to the request timeout, then fails with "no leader" (never hangs).
   */
  async #proposeAndWait(
    id: bigint,
    proposeFn: (data: Uint8Array) => { ok: true } | { ok: false; reason: string },
    data: Uint8Array,
    signal: AbortSignal | undefined,
    leaderOnly = false,
  ): Promise<MemberApplyResult> {
    const deadline = performance.now() + this.requestTimeoutMs();
    const wait = this.#waits.register<MemberApplyResult>(id, signal, deadline);
    void (async () => {
      for (;;) {
        if (leaderOnly && this.#lead !== this.id) {
          this.#waits.fail(id, new MemberError('notLeader'));
          return;
        }
        if (this.#lead === 0n) await this.#leaderOrDeadline(deadline, signal);
        if (!this.#waits.isWaiting(id)) return;
        const res = proposeFn(data);
        this.#kick();
        if (res.ok) return;
        if (res.reason !== 'no-leader') {
          this.#waits.fail(id, new MemberError('dropped'));
          return;
        }
        if (performance.now() >= deadline) {
          this.#waits.fail(id, new MemberError('no-leader'));
          return;
        }
        await sleep(LEADER_POLL_MS);
      }
    })().catch((err: unknown) => this.#waits.fail(id, err));
    try {
      return await wait;
    } catch (err) {
      if (err instanceof MemberError) throw err;
      if (err instanceof WaitTimeoutError) throw new MemberError(this.#lead === 0n ? 'no-leader' : 'timeout');
      throw new MemberError('cancelled');
    }
  }

  /** Resolves when a leader is known or the deadline passed (or the signal aborted). */
  async #leaderOrDeadline(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    while (this.#lead === 0n && performance.now() < deadline && signal?.aborted !== true && this.#stopping === undefined) {
      await sleep(LEADER_POLL_MS);
    }
  }

  /** A range: linearizable (ReadIndex) unless serializable. */
  async range(request: RangeRequest, options: { signal?: AbortSignal } = {}): Promise<Applied<{ kvs: KeyValue[]; more: boolean; count: number }>> {
    this.#checkUsable();
    if (!request.serializable && !unsafeReadsWithoutReadIndex) await this.linearizableBarrier(options);
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

  /**
   * A keep-alive: the leader renews the lease; another member forwards it to the leader (only
   * the leader counts leases down). Resolves with the new TTL; 0 when the lease is gone.
   */
  async leaseKeepAlive(id: bigint, options: { signal?: AbortSignal } = {}): Promise<number> {
    this.#checkUsable();
    if (this.isLeader()) {
      try {
        return await this.lessor.keepAlive(id, options);
      } catch (err) {
        if (isLeaseError(err, 'lease-not-found')) return 0;
        throw err;
      }
    }
    return decodeTtl(await this.#askLeader(PeerMethod.leaseRenew, idBytes(id), options.signal));
  }

  /** LeaseTimeToLive as the leader sees it (others ask the leader): undefined when not found. */
  async leaseTimeToLive(id: bigint, keys: boolean, options: { signal?: AbortSignal } = {}): Promise<LeaseTimeToLive | undefined> {
    this.#checkUsable();
    if (!this.isLeader()) {
      return decodeTimeToLive(await this.#askLeader(PeerMethod.leaseTtl, encodeTtlRequest(id, keys), options.signal));
    }
    await this.linearizableBarrier(options);
    if (this.lessor.lookup(id) === undefined) return undefined;
    const ttl = this.lessor.timeToLive(id, { keys });
    return { ttlSeconds: ttl.ttlSeconds, grantedTtlSeconds: ttl.grantedTtlSeconds, keys: ttl.keys };
  }

  /**
   * Sends a request to the leader over the peer transport and returns its answer; with no
   * leader it waits for one up to the request timeout. The leader's MemberError comes back as one.
   */
  async #askLeader(method: string, body: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const deadline = performance.now() + this.requestTimeoutMs();
    for (;;) {
      if (this.#lead === 0n) await this.#leaderOrDeadline(deadline, signal);
      const lead = this.#lead;
      if (lead === 0n) throw new MemberError('no-leader');
      if (lead === this.id) return this.#onPeerRequest(this.id, method, body);
      const timeoutMs = Math.max(1, deadline - performance.now());
      try {
        return await this.#transport.request(lead, method, body, signal === undefined ? { timeoutMs } : { timeoutMs, signal });
      } catch (err) {
        if (isTransportError(err, TransportErrorCode.Remote) && (err as TransportError).remoteCode !== undefined) {
          const code = (err as TransportError).remoteCode as MemberErrorCode;
          // The member asked was no longer the leader: ask the new one.
          if (code === 'notLeader' && performance.now() < deadline) {
            await sleep(LEADER_POLL_MS);
            continue;
          }
          throw new MemberError(code, (err as TransportError).remoteMessage);
        }
        if (signal?.aborted === true) throw new MemberError('cancelled');
        if (isTransportError(err, TransportErrorCode.Timeout)) throw new MemberError('timeout');
        if (performance.now() >= deadline) throw new MemberError('timeout');
        await sleep(LEADER_POLL_MS * 5);
      }
    }
  }

  /** A request from a peer (or this member, being the leader): only the leader serves them. */
  async #onPeerRequest(_from: bigint, method: string, body: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    if (!this.isLeader()) throw new MemberError('notLeader');
    const opts = signal === undefined ? {} : { signal };
    switch (method) {
      case PeerMethod.leaseRenew:
        return encodeTtl(await this.leaseKeepAlive(readId(body), opts));
      case PeerMethod.leaseTtl:
        return encodeTimeToLive(await this.leaseTimeToLive(readId(body), body[8] === 1, opts));
      case PeerMethod.memberPromote:
        await this.promoteMember(readId(body), opts);
        return new Uint8Array(0);
      default:
        throw new MemberError('unsupported', `no peer request "${method}"`);
    }
  }

  /** Raft's view, for Status. */
  raftStatus(): { leader: bigint; term: number; committed: number; applied: number; isLearner: boolean } {
    return { leader: this.#lead, term: this.#term, committed: this.#committed, applied: this.#applied, isLearner: this.isLearner() };
  }

  /** The cluster's members, ordered by id. */
  members(): MemberInfo[] {
    return this.#membership.list();
  }

  /** True once this member's name and client URLs are published through the cluster (etcd's ready). */
  get published(): boolean {
    return this.#published;
  }

  isLearner(): boolean {
    return this.#membership.get(this.id)?.isLearner ?? false;
  }

  // ---- membership changes (the Cluster API) and leadership ----

  #reconfigView(): ReconfigView {
    return {
      self: this.id,
      members: this.#membership.list(),
      activeSince: (id) => this.#transport.activeSince(id),
      nowMs: Date.now(),
    };
  }

  /** MemberAdd: a new voter or learner with these peer URLs; resolves once applied. */
  async addMember(peerUrls: string[], isLearner: boolean, options: { signal?: AbortSignal } = {}): Promise<{ member: MemberInfo; members: MemberInfo[] }> {
    this.#checkUsable();
    checkPeerUrls(peerUrls);
    const refusal = this.#strict() ? checkAdd(this.#reconfigView(), peerUrls, isLearner) : undefined;
    if (refusal !== undefined) throw new MemberError(refusal);
    // etcd's id for a member added at runtime: its peer URLs and the time, no cluster token.
    const member: MemberInfo = { id: computeMemberId(peerUrls, '', Math.floor(Date.now() / 1000)), name: '', peerUrls: [...peerUrls], clientUrls: [], isLearner };
    const type = isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
    await this.#changeConf(type, member.id, member, options.signal);
    return { member, members: this.#membership.list() };
  }

  /** MemberRemove; resolves once applied. */
  async removeMember(id: bigint, options: { signal?: AbortSignal } = {}): Promise<MemberInfo[]> {
    this.#checkUsable();
    if (this.#membership.get(id) === undefined) throw new MemberError('memberNotFound');
    const refusal = this.#strict() ? checkRemove(this.#reconfigView(), id) : undefined;
    if (refusal !== undefined) throw new MemberError(refusal);
    await this.#changeConf(ConfChangeType.RemoveNode, id, undefined, options.signal);
    return this.#membership.list();
  }

  /** MemberUpdate: a member's new peer URLs; resolves once applied. */
  async updateMember(id: bigint, peerUrls: string[], options: { signal?: AbortSignal } = {}): Promise<MemberInfo[]> {
    this.#checkUsable();
    checkPeerUrls(peerUrls);
    if (this.#membership.get(id) === undefined) throw new MemberError('memberNotFound');
    if (this.#membership.findByPeerUrls(peerUrls, id) !== undefined) throw new MemberError('peerUrlExist');
    await this.propose('memberUpdate', { ID: id, peerURLs: peerUrls }, options);
    return this.#membership.list();
  }

  /** MemberPromote: the leader checks the learner has caught up; other members ask the leader. */
  async promoteMember(id: bigint, options: { signal?: AbortSignal } = {}): Promise<MemberInfo[]> {
    this.#checkUsable();
    const target = this.#membership.get(id);
    if (target === undefined) throw new MemberError('memberNotFound');
    if (!target.isLearner) throw new MemberError('memberNotLearner');
    if (!this.isLeader()) {
      await this.#askLeader(PeerMethod.memberPromote, idBytes(id), options.signal);
      await this.#appliedAtLeastLeader(options.signal);
      return this.#membership.list();
    }
    const status = this.#node.status();
    const match = { leader: status.progress.get(this.id)?.match ?? 0, learner: status.progress.get(id)?.match };
    const refusal = checkPromote(this.#reconfigView(), id, match);
    if (refusal !== undefined) throw new MemberError(refusal);
    await this.#changeConf(ConfChangeType.AddNode, id, { ...target, isLearner: false }, options.signal);
    return this.#membership.list();
  }

  #strict(): boolean {
    return this.options.strictReconfigCheck ?? true;
  }

  async #changeConf(type: ConfChangeType, nodeId: bigint, member: MemberInfo | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (this.#committed - this.#applied > APPLY_LAG_MAX || this.#waits.full()) throw new MemberError('too-many-requests');
    const requestId = this.#ids.next();
    const cc: ConfChange = { transition: 'auto', changes: [{ type, nodeId }], context: encodeChangeContext(requestId, member) };
    const result = await this.#proposeAndWait(requestId, () => this.#node.proposeConfChange(cc), new Uint8Array(0), signal);
    if (!result.ok) throw new MemberError(result.error);
  }

  /** After a forwarded change: wait until this member has applied what the leader had. */
  async #appliedAtLeastLeader(signal: AbortSignal | undefined): Promise<void> {
    await this.linearizableBarrier(signal === undefined ? {} : { signal });
  }

  /** MoveLeader: this leader hands leadership to `target`; resolves once it has it. */
  async moveLeader(target: bigint, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#checkUsable();
    if (!this.isLeader()) throw new MemberError('notLeader');
    const member = this.#membership.get(target);
    if (member === undefined || member.isLearner) throw new MemberError('badLeaderTransferee');
    if (target === this.id) return;
    this.#log('info', `leadership transfer from ${this.id.toString(16)} to ${target.toString(16)} starting`);
    this.#node.transferLeadership(target);
    this.#kick();
    const deadline = performance.now() + this.requestTimeoutMs();
    while (this.#lead !== target) {
      if (performance.now() >= deadline) throw new MemberError('leaderTransferTimeout');
      if (options.signal?.aborted === true) throw new MemberError('cancelled');
      await sleep(LEADER_POLL_MS);
    }
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
    this.#resolveDone({ removed: false, error: err });
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
    await this.#transport.close();
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

/** The result of applying an entry, as the proposer's waiter receives it. */
type MemberApplyResult = ApplyResult | { ok: false; error: ReconfigRefusal };

function txnWrites(t: { success: Array<{ requestPut?: unknown; requestTxn?: unknown }>; failure: Array<{ requestPut?: unknown; requestTxn?: unknown }> }): boolean {
  return [...t.success, ...t.failure].some((op) => op.requestPut !== undefined || op.requestTxn !== undefined);
}
