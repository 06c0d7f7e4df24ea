// A simulated member: a Raft node, its MemoryStorage, its disk and its key-value state machine,
// driven through the Ready loop exactly as a real member would (send, persist + sync, send after
// persist, apply, advance). It snapshots every N applied entries and restarts from its disk alone.
// Invariant: `applied` only grows by one entry at a time or jumps to a snapshot's index.
import type { RaftConfig } from '../../src/raft/config.ts';
import {
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Snapshot,
  EntryType,
  NONE,
  emptyConfState,
} from '../../src/raft/messages.ts';
import type { ReadState, Ready } from '../../src/raft/ready.ts';
import { StateRole } from '../../src/raft/ready.ts';
import { MemoryStorage } from '../../src/raft/storage.ts';
import type { SeededRng } from '../../src/util/rng.ts';
import { type NodeFactory, type RaftNode, decodeConfChange } from './core.ts';
import { Disk } from './disk.ts';
import { type KvApplied, type KvCommand, KvStore, decodeCommand } from './kv.ts';
import type { SafetyChecker } from './checkers/safety.ts';
import { check } from './checkers/violation.ts';

/** Where in the Ready loop an armed crash strikes (the failpoints of a real member). */
export type CrashPoint = 'raftBeforeSave' | 'raftAfterSave' | 'raftBeforeApply';

/** What a member reports to the simulator. */
export interface MemberHooks {
  checker: SafetyChecker;
  send(from: SimMember, messages: readonly Message[]): void;
  note(kind: string, text: string | (() => string)): void;
  applied(member: SimMember, entry: Entry, cmd: KvCommand, result: KvApplied): void;
  readStates(member: SimMember, states: readonly ReadState[]): void;
  confState(member: SimMember, cs: ConfState, index: number): void;
  /** The member crashed at an armed failpoint. */
  crashedAt(member: SimMember, point: CrashPoint): void;
}

/** How a member is built. */
export interface MemberOptions {
  id: NodeId;
  factory: NodeFactory;
  /** The Raft configuration without the per-life fields. */
  raft: Omit<RaftConfig, 'id' | 'storage' | 'rng' | 'applied'>;
  /** Randomness for this member (its node's election timeouts, crash tearing). */
  rng: SeededRng;
  hooks: MemberHooks;
  /** Applied entries between snapshots; 0: never. */
  snapshotEvery: number;
  /** Entries kept in the log behind a snapshot (for slow followers). */
  compactKeep: number;
  /** Run the core's own checkInvariants() after every input (default true). */
  checkInvariants?: boolean;
  /** Test-only: pretend to apply this index without changing the state (a broken apply). */
  skipApplyIndex?: number;
}

/** A member of the simulated cluster. */
export class SimMember {
  readonly id: NodeId;
  readonly disk = new Disk();
  readonly kv = new KvStore();
  storage = new MemoryStorage();
  node: RaftNode | undefined;
  applied = 0;
  confState: ConfState = emptyConfState();
  role: StateRole = StateRole.Follower;
  lead: NodeId = NONE;
  hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  /** A crash armed at a failpoint, taken at the next Ready that reaches it. */
  armedCrash: CrashPoint | undefined;
  snapshotsTaken = 0;
  snapshotsInstalled = 0;
  lives = 0;
  readonly #opts: MemberOptions;
  #appliedSinceSnapshot = 0;
  #snapshotDue = false;

  constructor(opts: MemberOptions) {
    this.id = opts.id;
    this.#opts = opts;
  }

  /** True while the process runs. */
  get alive(): boolean {
    return this.node !== undefined;
  }

  /** Writes the initial cluster snapshot (index 1, term 1) for an initial member. */
  bootstrap(voters: readonly NodeId[]): void {
    const confState = { ...emptyConfState(), voters: [...voters] };
    const snapshot: Snapshot = { data: new Uint8Array(0), metadata: { index: 1, term: 1, confState } };
    this.disk.write({ kind: 'snapshot', snapshot, replace: true });
    this.disk.sync();
  }

  /** Starts (or restarts) the process from what is on disk. */
  start(): void {
    const d = this.disk.load();
    this.storage = new MemoryStorage();
    this.kv.restore(d.snapshot?.data ?? new Uint8Array(0));
    this.applied = 0;
    this.confState = emptyConfState();
    if (d.snapshot !== undefined) {
      this.storage.applySnapshot(d.snapshot);
      this.applied = d.snapshot.metadata.index;
      this.confState = d.snapshot.metadata.confState;
    }
    this.storage.append(d.entries);
    this.storage.setHardState(d.hardState);
    this.hardState = { ...d.hardState };
    this.role = StateRole.Follower;
    this.lead = NONE;
    this.armedCrash = undefined;
    this.#appliedSinceSnapshot = 0;
    this.lives++;
    this.#opts.hooks.checker.onStart(this.id, d.hardState);
    this.node = this.#opts.factory({
      ...this.#opts.raft,
      id: this.id,
      storage: this.storage,
      rng: this.#opts.rng.fork(),
      applied: this.applied,
    });
  }

  /** The process dies: the node and memory are gone; unsynced writes are (partly) lost. */
  crash(keepUnsynced: boolean): number {
    this.node = undefined;
    this.role = StateRole.Follower;
    this.lead = NONE;
    return this.disk.crash(this.#opts.rng, keepUnsynced);
  }

  /** Runs the Ready loop until the node has nothing more to hand out. */
  handleReady(): void {
    const node = this.node;
    if (node === undefined) return;
    while (this.node === node && node.hasReady()) {
      const rd = node.ready();
      if (!this.#handle(node, rd)) return;
      node.advance(rd);
      this.#maybeSnapshot();
    }
    if (this.node === node && this.#opts.checkInvariants !== false) node.checkInvariants();
  }

  /** Handles one Ready; false when the member crashed at a failpoint on the way. */
  #handle(node: RaftNode, rd: Ready): boolean {
    const hooks = this.#opts.hooks;
    const checker = hooks.checker;
    const becameLeader = rd.softState !== undefined && rd.softState.role === StateRole.Leader &&
      this.role !== StateRole.Leader;
    if (rd.softState !== undefined) {
      const ss = rd.softState;
      if (ss.role !== this.role || ss.lead !== this.lead) {
        hooks.note('role', () => `${this.id} is ${ss.role} (leader ${ss.lead})`);
      }
      this.role = ss.role;
      this.lead = ss.lead;
    }
    if (rd.messages.length > 0) hooks.send(this, rd.messages);
    if (this.#crashAt('raftBeforeSave')) return false;

    if (rd.snapshot !== undefined) this.disk.write({ kind: 'snapshot', snapshot: rd.snapshot, replace: true });
    if (rd.entries.length > 0) this.disk.write({ kind: 'entries', entries: rd.entries });
    if (rd.hardState !== undefined) this.disk.write({ kind: 'hardState', hardState: rd.hardState });
    if (rd.mustSync) this.disk.sync();
    if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    checker.onPersist(this.id, rd.entries, this.storage);
    if (rd.hardState !== undefined) {
      const hs = rd.hardState;
      this.storage.setHardState(hs);
      checker.onHardState(this.id, hs);
      if (hs.commit > this.hardState.commit) {
        checker.onCommit(this.id, hs.commit, hs.term, this.storage);
        hooks.note('commit', () => `${this.id} commit=${hs.commit} term=${hs.term}`);
      }
      this.hardState = { ...hs };
    }
    if (becameLeader) checker.onLeader(this.id, this.hardState.term, this.storage);
    if (this.#crashAt('raftAfterSave')) return false;

    if (rd.messagesAfterPersist.length > 0) hooks.send(this, rd.messagesAfterPersist);
    if (this.#crashAt('raftBeforeApply')) return false;
    if (rd.snapshot !== undefined) this.#installSnapshot(rd.snapshot);
    for (const e of rd.committedEntries) this.#apply(node, e);
    if (rd.readStates.length > 0) hooks.readStates(this, rd.readStates);
    return true;
  }

  #crashAt(point: CrashPoint): boolean {
    if (this.armedCrash !== point) return false;
    this.#opts.hooks.crashedAt(this, point);
    return true;
  }

  #installSnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    this.kv.restore(snapshot.data);
    this.applied = index;
    this.confState = snapshot.metadata.confState;
    this.snapshotsInstalled++;
    this.#appliedSinceSnapshot = 0;
    this.#opts.hooks.note('snapshot', () => `${this.id} installed snapshot ${index}/${snapshot.metadata.term}`);
    this.#opts.hooks.checker.onSnapshot(this.id, index, this.kv.digest);
    this.#opts.hooks.confState(this, this.confState, index);
  }

  #apply(node: RaftNode, e: Entry): void {
    check(e.index === this.applied + 1, 'apply-order', () =>
      `member ${this.id} was handed entry ${e.index} to apply after applying ${this.applied}`);
    const hooks = this.#opts.hooks;
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      const before = this.confState;
      this.confState = node.applyConfChange(cc);
      // A new member can only restore a snapshot whose configuration holds it (as etcd's raft):
      // snapshot now so the leader has one to send.
      if (addsMember(before, this.confState)) this.#snapshotDue = true;
      this.applied = e.index;
      hooks.confState(this, this.confState, e.index);
    } else if (e.data.length > 0 && e.index !== this.#opts.skipApplyIndex) {
      const cmd = decodeCommand(e.data);
      const result = this.kv.apply(cmd);
      this.applied = e.index;
      hooks.applied(this, e, cmd, result);
    } else {
      this.applied = e.index;
    }
    this.#appliedSinceSnapshot++;
    hooks.checker.onApply(this.id, e, this.kv.digest);
  }

  /**
   * Every `snapshotEvery` applied entries, and after a member was added: snapshot the state
   * machine and compact the log.
   */
  #maybeSnapshot(): void {
    const every = this.#opts.snapshotEvery;
    const due = this.#snapshotDue || (every > 0 && this.#appliedSinceSnapshot >= every);
    if (!due || this.applied <= this.storage.snapshot().metadata.index) return;
    this.#appliedSinceSnapshot = 0;
    this.#snapshotDue = false;
    const snapshot = this.storage.createSnapshot(this.applied, this.confState, this.kv.serialize());
    this.disk.write({ kind: 'snapshot', snapshot, replace: false });
    this.disk.sync();
    const compactIndex = this.applied - this.#opts.compactKeep;
    if (compactIndex >= this.storage.firstIndex()) this.storage.compact(compactIndex);
    this.snapshotsTaken++;
    this.#opts.hooks.note('snapshot', () => `${this.id} took snapshot at ${this.applied}, compacted to ${compactIndex}`);
  }
}

function addsMember(before: ConfState, after: ConfState): boolean {
  const known = new Set([...before.voters, ...before.learners, ...before.votersOutgoing, ...before.learnersNext]);
  return after.voters.some((id) => !known.has(id)) || after.learners.some((id) => !known.has(id));
}
