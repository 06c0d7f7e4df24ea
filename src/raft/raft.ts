// The Raft state of one node and the transitions every role shares: term handling and voting in
// `step`, role changes, elections, append/heartbeat sending, commit, configuration switching.
// Role-specific handling lives in roles/. No I/O: time arrives as tick(), randomness from config.rng.
// Invariants: term never decreases; at most one vote per term; committed never decreases.
import { assert } from '../util/assert.ts';
import type { Rng } from '../util/rng.ts';
import { type RaftConfig, type RaftFaults, ReadOnlyOption, defaultRaftLimits, validateConfig } from './config.ts';
import { Changer, ConfChangeError } from './confchange/changer.ts';
import { enterJointOf, leavesJoint } from './confchange/conf-change.ts';
import { restore as restoreConfig } from './confchange/restore.ts';
import { LogCompactedError, RaftLog } from './log.ts';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Snapshot,
  EntryType,
  MessageType,
  NONE,
  entryPayloadBytes,
} from './messages.ts';
import { jointVoteResult } from './quorum/joint.ts';
import type { VoteResult } from './quorum/majority.ts';
import { ReadOnly } from './read-only.ts';
import { type ProposalResult, type ReadState, type SoftState, ProposalDropReason, StateRole } from './ready.ts';
import { stepCandidate } from './roles/candidate.ts';
import { stepFollower } from './roles/follower.ts';
import { stepLeader } from './roles/leader.ts';
import { Inflights } from './tracker/inflights.ts';
import { Progress, ProgressState } from './tracker/progress.ts';
import { ProgressTracker, type TrackerConfig, type ProgressMap } from './tracker/tracker.ts';
import { StorageError, StorageErrorCode } from './storage.ts';

/** Marks vote requests of a leadership transfer: they bypass the leader lease. */
export const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');

/** The kinds of campaign. */
export const CampaignType = {
  PreElection: 'pre-election',
  Election: 'election',
  Transfer: 'transfer',
} as const;
export type CampaignType = (typeof CampaignType)[keyof typeof CampaignType];

/** The result of stepping a message: fine, or a proposal/request was dropped. */
export const OK: ProposalResult = { ok: true };

/** A dropped result with its reason. */
export function dropped(reason: ProposalDropReason): ProposalResult {
  return { ok: false, reason };
}

type StepFn = (r: Raft, m: Message) => ProposalResult;

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One node's Raft state machine. Driven by RawNode; roles in roles/ read and change it. */
export class Raft {
  readonly id: NodeId;
  /** Invariant: never decreases. */
  term = 0;
  vote: NodeId = NONE;
  readStates: ReadState[] = [];
  readonly log: RaftLog;
  readonly msgBytesMax: number;
  readonly uncommittedBytesMax: number;
  tracker: ProgressTracker;
  role: StateRole = StateRole.Follower;
  isLearner = false;
  /** Messages to send now. */
  msgs: Message[] = [];
  /** Messages to send (or, self-addressed, to step) once the current unstable state is persisted. */
  msgsAfterPersist: Message[] = [];
  lead: NodeId = NONE;
  /** The target of a leadership transfer in progress, or NONE. */
  leadTransferee: NodeId = NONE;
  /**
   * Only one conf change may be pending (in the log, unapplied). Set to the index of the latest
   * pending one; a new one is allowed when applied ≥ this.
   */
  pendingConfIndex = 0;
  /** Payload bytes of entries appended by this leader and not yet committed (handed out). */
  uncommittedBytes = 0;
  readOnly: ReadOnly;
  /** Leader/candidate: ticks since the last election timeout; follower: since hearing from the leader. */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** In [electionTimeout, 2*electionTimeout); re-drawn on every reset. */
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  readonly faults: RaftFaults;
  readonly #rng: Rng;
  #step: StepFn = stepFollower;
  #tick: () => void = () => this.tickElection();

  constructor(config: RaftConfig) {
    validateConfig(config);
    this.id = config.id;
    this.log = new RaftLog(config.storage, config.committedBytesPerReadyMax ?? defaultRaftLimits.committedBytesPerReadyMax);
    const { hardState, confState } = config.storage.initialState();
    this.msgBytesMax = config.msgBytesMax;
    this.uncommittedBytesMax = config.uncommittedBytesMax ?? 0;
    this.tracker = new ProgressTracker(config.inflightMsgsMax, config.inflightBytesMax ?? 0);
    this.readOnly = new ReadOnly(config.readOnlyOption ?? ReadOnlyOption.Safe);
    this.checkQuorum = config.checkQuorum;
    this.preVote = config.preVote;
    this.heartbeatTimeout = config.heartbeatTicks;
    this.electionTimeout = config.electionTicks;
    this.disableProposalForwarding = config.disableProposalForwarding ?? false;
    this.faults = config.faults ?? {};
    this.#rng = config.rng;

    const restored = restoreConfig(new Changer(this.tracker, this.log.lastIndex()), confState);
    this.switchToConfig(restored.config, restored.progress);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (config.applied !== undefined && config.applied > 0) this.log.appliedTo(config.applied);
    this.becomeFollower(this.term, NONE);
  }

  // ---- state reported to the caller ----

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  loadState(hs: HardState): void {
    assert(
      hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      () => `raft ${this.id}: state.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  // ---- sending ----

  /** Queues a message, filling in the term; responses that depend on persisted state wait for it. */
  send(m: Message): void {
    // A forwarded TransferLeader keeps its sender: `from` names the transferee.
    if (m.from === NONE) m.from = this.id;
    if (m.type === MessageType.Vote || m.type === MessageType.VoteResp || m.type === MessageType.PreVote || m.type === MessageType.PreVoteResp) {
      assert(m.term !== 0, () => `raft ${this.id}: term should be set when sending ${m.type}`);
    } else {
      assert(m.term === 0, () => `raft ${this.id}: term should not be set when sending ${m.type} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are local messages: no term.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    }
    if (m.type === MessageType.AppResp || m.type === MessageType.VoteResp || m.type === MessageType.PreVoteResp) {
      this.msgsAfterPersist.push(m);
    } else {
      assert(m.to !== this.id, () => `raft ${this.id}: ${m.type} must not be self-addressed`);
      this.msgs.push(m);
    }
  }

  /** Sends an append (or a snapshot) to `to` if its progress allows. */
  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends entries (or a snapshot when the needed entries are compacted) to `to`. Returns whether a
   * message was sent. With sendIfEmpty false, nothing is sent when there are no new entries.
   */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let entries: Entry[] | undefined;
    let compacted = prevTerm === undefined;
    if (!compacted && (pr.state !== ProgressState.Replicate || !pr.inflights.full())) {
      try {
        entries = this.log.entries(pr.next, this.msgBytesMax);
      } catch (err) {
        if (!(err instanceof LogCompactedError)) throw err;
        compacted = true;
      }
    }
    if (compacted) return this.#sendSnapshot(to, pr);
    const ents = entries ?? [];
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({ type: MessageType.App, to, from: this.id, term: 0, index: prevIndex, logTerm: prevTerm!, entries: ents, commit: this.log.committed });
    let bytes = 0;
    for (const e of ents) bytes += entryPayloadBytes(e);
    pr.updateOnEntriesSend(ents.length, bytes, pr.next);
    if (this.log.committed > pr.sentCommit) pr.sentCommit = this.log.committed;
    return true;
  }

  #sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.SnapshotTemporarilyUnavailable) return false;
      throw err;
    }
    assert(snapshot.metadata.index > 0, () => `raft ${this.id}: need a non-empty snapshot to send to ${to}`);
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send({ type: MessageType.Snap, to, from: this.id, term: 0, snapshot });
    return true;
  }

  sendHeartbeat(to: NodeId, context: Uint8Array | undefined): void {
    const pr = this.tracker.progress.get(to)!;
    // A follower may not have all entries up to our commit; never tell it to commit past its match.
    const commit = Math.min(pr.match, this.log.committed);
    if (commit > pr.sentCommit) pr.sentCommit = commit;
    const m: Message = { type: MessageType.Heartbeat, to, from: this.id, term: 0, commit };
    if (context !== undefined) m.context = context;
    this.send(m);
  }

  bcastAppend(): void {
    this.tracker.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  bcastHeartbeat(): void {
    this.bcastHeartbeatWithContext(this.readOnly.lastPendingRequestContext());
  }

  bcastHeartbeatWithContext(context: Uint8Array | undefined): void {
    this.tracker.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, context);
    });
  }

  sendTimeoutNow(to: NodeId): void {
    this.send({ type: MessageType.TimeoutNow, to, from: this.id, term: 0 });
  }

  // ---- commit ----

  /** Commits what a quorum has persisted, if it is of the current term (§5.4.2). */
  maybeCommit(): boolean {
    const index = this.faults.commitAlone === true ? (this.tracker.progress.get(this.id)?.match ?? 0) : this.tracker.committed();
    return this.log.maybeCommit(index, this.term, this.faults.commitPreviousTerm === true);
  }

  /** True once this leader has committed an entry of its own term. */
  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  // ---- role changes ----

  reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, () => `raft ${this.id}: term must not decrease (${this.term} -> ${term})`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + this.#rng.int(this.electionTimeout);
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    const stableLastIndex = this.log.stableLastIndex();
    this.tracker.visit((id, pr) => {
      const fresh = new Progress({
        match: 0,
        next: lastIndex + 1,
        inflights: new Inflights(this.tracker.inflightMsgsMax, this.tracker.inflightBytesMax),
        isLearner: pr.isLearner,
      });
      // The leader counts itself only for what it has persisted.
      if (id === this.id) fresh.match = Math.min(stableLastIndex, lastIndex);
      this.tracker.progress.set(id, fresh);
    });
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.#step = stepFollower;
    this.reset(term);
    this.#tick = () => this.tickElection();
    this.lead = lead;
    this.role = StateRole.Follower;
  }

  becomeCandidate(): void {
    assert(this.role !== StateRole.Leader, () => `raft ${this.id}: invalid transition [leader -> candidate]`);
    this.#step = stepCandidate;
    this.reset(this.term + 1);
    this.#tick = () => this.tickElection();
    this.vote = this.id;
    this.role = StateRole.Candidate;
  }

  becomePreCandidate(): void {
    assert(this.role !== StateRole.Leader, () => `raft ${this.id}: invalid transition [leader -> pre-candidate]`);
    // A pre-candidate changes neither term nor vote.
    this.#step = stepCandidate;
    this.tracker.resetVotes();
    this.#tick = () => this.tickElection();
    this.lead = NONE;
    this.role = StateRole.PreCandidate;
  }

  becomeLeader(): void {
    assert(this.role !== StateRole.Follower, () => `raft ${this.id}: invalid transition [follower -> leader]`);
    this.#step = stepLeader;
    this.reset(this.term);
    this.#tick = () => this.tickHeartbeat();
    this.lead = this.id;
    this.role = StateRole.Leader;
    const self = this.tracker.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Conservatively forbid conf changes until everything up to here is applied: any entry in the
    // log might be a conf change.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op of this term; it is what lets earlier entries commit (§5.4.2).
    const appended = this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }]);
    assert(appended, () => `raft ${this.id}: empty entry was dropped`);
  }

  /** Appends entries as leader, stamping term and index; false when the uncommitted limit refuses them. */
  appendEntries(entries: Entry[]): boolean {
    let li = this.log.lastIndex();
    let bytes = 0;
    for (const e of entries) bytes += entryPayloadBytes(e);
    if (this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytesMax > 0 && this.uncommittedBytes + bytes > this.uncommittedBytesMax) {
      return false;
    }
    this.uncommittedBytes += bytes;
    for (const e of entries) {
      e.term = this.term;
      e.index = ++li;
    }
    li = this.log.append(entries);
    // The leader acknowledges its own entries once they are persisted, like any follower.
    this.send({ type: MessageType.AppResp, to: this.id, from: this.id, term: 0, index: li });
    return true;
  }

  /** Committed entries were handed out: they no longer count toward the uncommitted limit. */
  reduceUncommittedBytes(entries: readonly Entry[]): void {
    if (this.uncommittedBytes === 0) return;
    let bytes = 0;
    for (const e of entries) bytes += entryPayloadBytes(e);
    this.uncommittedBytes = bytes > this.uncommittedBytes ? 0 : this.uncommittedBytes - bytes;
  }

  // ---- ticks ----

  tick(): void {
    this.#tick();
  }

  tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step({ type: MessageType.Hup, to: this.id, from: this.id, term: 0 });
    }
  }

  tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step({ type: MessageType.CheckQuorum, to: this.id, from: this.id, term: 0 });
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === StateRole.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== StateRole.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step({ type: MessageType.Beat, to: this.id, from: this.id, term: 0 });
    }
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Whether this node may campaign: a voter, with no snapshot pending. */
  promotable(): boolean {
    const pr = this.tracker.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && this.log.unstable.snapshot === undefined;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- elections ----

  hup(type: CampaignType): ProposalResult {
    if (this.role === StateRole.Leader) return OK;
    if (!this.promotable()) return dropped(ProposalDropReason.NotMember);
    if (this.#hasUnappliedConfChanges()) return dropped(ProposalDropReason.ConfChangePending);
    this.campaign(type);
    return OK;
  }

  #hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    // Scan the committed, unapplied entries (bounded by the per-Ready budget).
    let lo = this.log.applied + 1;
    const hi = this.log.committed + 1;
    while (lo < hi) {
      let ents: Entry[];
      try {
        ents = this.log.slice(lo, hi, 16 * 1024 * 1024);
      } catch (err) {
        if (err instanceof LogCompactedError) return false;
        throw err;
      }
      for (const e of ents) if (e.type === EntryType.ConfChange) return true;
      if (ents.length === 0) break;
      lo = ents[ents.length - 1]!.index + 1;
    }
    return false;
  }

  campaign(type: CampaignType): void {
    if (!this.promotable()) return;
    let voteType: MessageType;
    let term: number;
    if (type === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      // A pre-vote asks for the term we would campaign in, without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    const respType = voteType === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
    for (const id of this.tracker.voterNodes()) {
      if (id === this.id) {
        // Our own vote counts once our term and vote are persisted.
        this.send({ type: respType, to: this.id, from: this.id, term });
        continue;
      }
      const m: Message = {
        type: voteType,
        to: id,
        from: this.id,
        term,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
      };
      if (type === CampaignType.Transfer) m.context = CAMPAIGN_TRANSFER;
      this.send(m);
    }
  }

  /** Records a vote and returns the tally. */
  poll(id: NodeId, granted: boolean): { granted: number; rejected: number; result: VoteResult } {
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes();
  }

  // ---- the step ----

  /** Handles one message: term checks and votes here, the rest by the role. */
  step(m: Message): ProposalResult {
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        // Within the lease of a live leader, ignore disruptive candidates (thesis §4.2.3).
        if (!force && inLease) return OK;
      }
      if (m.type === MessageType.PreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.PreVoteResp && m.reject !== true) {
        // Pre-votes are asked with a future term; a grant carries that term. We move to it only
        // when a quorum grants (then we campaign).
      } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term && m.term !== 0) {
      if (m.type === MessageType.Heartbeat || m.type === MessageType.App) {
        // A leader whose term we passed: tell it our term so it steps down and the cluster moves
        // to a term we accept. etcd answers only with CheckQuorum or PreVote and otherwise counts
        // on our higher-term Vote reaching the leader; but a member in a stale configuration may
        // campaign among voters that no longer include the leader, and would never catch up
        // (simulator seed 0x191cf). Answering is what the Raft paper does.
        this.send({ type: MessageType.AppResp, to: m.from, from: this.id, term: 0 });
      } else if (m.type === MessageType.PreVote) {
        // Reject with our term so a stale pre-candidate learns it (etcd issue 8501).
        this.send({ type: MessageType.PreVoteResp, to: m.from, from: this.id, term: this.term, reject: true });
      }
      return OK;
    }

    switch (m.type) {
      case MessageType.Hup:
        return this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
      case MessageType.Vote:
      case MessageType.PreVote:
        this.#handleVote(m);
        return OK;
      default:
        return this.#step(this, m);
    }
  }

  #handleVote(m: Message): void {
    // We can vote when: repeating our vote; we have not voted and know no leader in this term; or
    // it is a pre-vote for a future term.
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MessageType.PreVote && m.term > this.term) ||
      (this.faults.voteTwice === true && m.type === MessageType.Vote);
    const respType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    if (canVote && this.log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
      // The response carries the candidate's term: for pre-votes it is the future term.
      this.send({ type: respType, to: m.from, from: this.id, term: m.term });
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, from: this.id, term: this.term, reject: true });
    }
  }

  // ---- followers' handlers, shared by follower and candidate ----

  handleAppendEntries(m: Message): void {
    const index = m.index ?? 0;
    if (index < this.log.committed) {
      this.send({ type: MessageType.AppResp, to: m.from, from: this.id, term: 0, index: this.log.committed });
      return;
    }
    const lastNew = this.log.maybeAppend(index, m.logTerm ?? 0, m.commit ?? 0, m.entries ?? []);
    if (lastNew !== undefined) {
      this.send({ type: MessageType.AppResp, to: m.from, from: this.id, term: 0, index: lastNew });
      return;
    }
    // Reject, with a hint to skip every entry of a conflicting term at once (fast back-off).
    const hint = this.log.findConflictByTerm(Math.min(index, this.log.lastIndex()), m.logTerm ?? 0);
    this.send({ type: MessageType.AppResp, to: m.from, from: this.id, term: 0, index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit ?? 0);
    const resp: Message = { type: MessageType.HeartbeatResp, to: m.from, from: this.id, term: 0 };
    if (m.context !== undefined) resp.context = m.context;
    this.send(resp);
  }

  handleSnapshot(m: Message): void {
    const snapshot = m.snapshot!;
    if (this.restore(snapshot)) {
      this.send({ type: MessageType.AppResp, to: m.from, from: this.id, term: 0, index: this.log.lastIndex() });
    } else {
      this.send({ type: MessageType.AppResp, to: m.from, from: this.id, term: 0, index: this.log.committed });
    }
  }

  /** Installs a leader's snapshot; false when it is stale or not for us. */
  restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    if (this.role !== StateRole.Follower) {
      // Defense in depth: only followers install snapshots. Make sure we are one next time.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const member = [confState.voters, confState.learners, confState.votersOutgoing].some((ids) => ids.includes(this.id));
    if (!member) return false;
    if (this.log.matchTerm(index, term)) {
      // We already have the entry: just move the commit index forward.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.tracker = new ProgressTracker(this.tracker.inflightMsgsMax, this.tracker.inflightBytesMax);
    const restored = restoreConfig(new Changer(this.tracker, this.log.lastIndex()), confState);
    this.switchToConfig(restored.config, restored.progress);
    const pr = this.tracker.progress.get(this.id);
    if (pr !== undefined) pr.maybeUpdate(pr.next - 1);
    return true;
  }

  // ---- configuration ----

  /** Applies a committed configuration change; throws ConfChangeError (config unchanged) when invalid. */
  applyConfChange(cc: ConfChange): ConfState {
    const changer = new Changer(this.tracker, this.log.lastIndex());
    let result;
    if (leavesJoint(cc)) {
      result = changer.leaveJoint();
    } else {
      const { autoLeave, useJoint } = enterJointOf(cc);
      result = useJoint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    return this.switchToConfig(result.config, result.progress);
  }

  /** Checks a change against the current configuration without applying it. */
  validateConfChange(cc: ConfChange): string | undefined {
    try {
      const changer = new Changer(this.tracker, this.log.lastIndex());
      if (leavesJoint(cc)) changer.leaveJoint();
      else {
        const { autoLeave, useJoint } = enterJointOf(cc);
        if (useJoint) changer.enterJoint(autoLeave, cc.changes);
        else changer.simple(cc.changes);
      }
      return undefined;
    } catch (err) {
      if (err instanceof ConfChangeError) return err.message;
      throw err;
    }
  }

  /** Makes a new configuration live and reacts to it. */
  switchToConfig(config: TrackerConfig, progress: ProgressMap): ConfState {
    this.tracker.config = config;
    this.tracker.progress = progress;
    const cs = this.tracker.confState();
    const pr = this.tracker.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.role === StateRole.Leader) {
      // Removed or demoted: step down so the rest of the cluster elects a leader promptly.
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.role !== StateRole.Leader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else {
      // Probe the newly added nodes right away.
      this.tracker.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  /** Leader: an applied index moved; leave an auto-leave joint configuration once it is applied. */
  onApplied(applied: number): void {
    if (this.tracker.config.autoLeave && applied >= this.pendingConfIndex && this.role === StateRole.Leader) {
      const leave: Entry = { term: 0, index: 0, type: EntryType.ConfChange, data: new Uint8Array(0) };
      // Dropped when a transfer is in progress: then we retry on the next applied entry.
      this.step({ type: MessageType.Prop, to: this.id, from: this.id, term: 0, entries: [leave] });
    }
  }

  /** Releases ReadIndex requests that waited for the first commit of this term. */
  releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) sendReadIndexResponse(this, m);
  }

  /** Answers a ReadIndex request: locally (a ReadState) or to the follower that forwarded it. */
  responseToReadIndex(request: Message, readIndex: number): Message | undefined {
    const context = request.entries?.[0]?.data ?? new Uint8Array(0);
    if (request.from === NONE || request.from === this.id) {
      this.readStates.push({ index: readIndex, context });
      return undefined;
    }
    return { type: MessageType.ReadIndexResp, to: request.from, from: this.id, term: 0, index: readIndex, entries: request.entries ?? [] };
  }

  // ---- invariants ----

  /** Checks invariants that must hold between steps; throws InvariantError. */
  checkInvariants(): void {
    const log = this.log;
    assert(log.applied <= log.committed, () => `raft ${this.id}: applied ${log.applied} > committed ${log.committed}`);
    assert(log.committed <= log.lastIndex(), () => `raft ${this.id}: committed ${log.committed} > last index ${log.lastIndex()}`);
    assert(log.firstIndex() <= log.lastIndex() + 1, () => `raft ${this.id}: first index ${log.firstIndex()} > last index + 1`);
    if (this.role === StateRole.Leader) {
      assert(this.lead === this.id, () => `raft ${this.id}: leader with lead ${this.lead}`);
      assert(this.vote === this.id || this.term === 0 || this.vote !== NONE, () => `raft ${this.id}: leader without a vote`);
      const self = this.tracker.progress.get(this.id);
      assert(self !== undefined, () => `raft ${this.id}: leader without its own progress`);
      this.tracker.visit((id, pr) => {
        assert(pr.match < pr.next, () => `raft ${this.id}: progress of ${id} has match ${pr.match} ≥ next ${pr.next}`);
        assert(pr.match <= log.lastIndex(), () => `raft ${this.id}: progress of ${id} has match ${pr.match} > last ${log.lastIndex()}`);
      });
    }
    if (this.role === StateRole.Candidate) {
      assert(this.vote === this.id, () => `raft ${this.id}: candidate voted for ${this.vote}`);
    }
  }
}

/** Leader: answers (or starts confirming) a ReadIndex request. */
export function sendReadIndexResponse(r: Raft, m: Message): void {
  if (r.readOnly.option === ReadOnlyOption.Safe) {
    const context = m.entries?.[0]?.data ?? new Uint8Array(0);
    r.readOnly.addRequest(r.log.committed, m);
    // The leader acknowledges itself; the rest confirm through the heartbeat round.
    r.readOnly.recvAck(r.id, context);
    r.bcastHeartbeatWithContext(context);
    return;
  }
  const resp = r.responseToReadIndex(m, r.log.committed);
  if (resp !== undefined) r.send(resp);
}

/** Whether the acks so far make a quorum for a ReadIndex. */
export function readIndexQuorum(r: Raft, acks: Map<NodeId, boolean>): boolean {
  return jointVoteResult(r.tracker.config.voters, acks) === 'won';
}
