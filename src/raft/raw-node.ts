// The public face of the Raft core, in the spirit of etcd's RawNode: feed it ticks, messages and
// proposals; take a Ready, carry it out (send, persist, apply), then advance.
// Single-threaded and synchronous; the caller owns all I/O.
import { assert } from '../util/assert.ts';
import type { RaftConfig } from './config.ts';
import { encodeConfChange } from './confchange/conf-change.ts';
import {
  type ConfChange,
  type ConfState,
  type HardState,
  type Message,
  type NodeId,
  EntryType,
  MessageType,
  isLocalMessage,
  isResponseMessage,
} from './messages.ts';
import { Raft, CampaignType, OK } from './raft.ts';
import { type ProgressStatus, type ProposalResult, type Ready, type SoftState, type Status, ProposalDropReason } from './ready.ts';

/** A Raft node driven by its caller. */
export class RawNode {
  readonly #raft: Raft;
  #prevSoftState: SoftState;
  #prevHardState: HardState;
  /** Self-addressed messages of the Ready in flight: stepped once its state is persisted. */
  #stepsOnAdvance: Message[] = [];

  constructor(config: RaftConfig) {
    this.#raft = new Raft(config);
    this.#prevSoftState = this.#raft.softState();
    this.#prevHardState = this.#raft.hardState();
  }

  /** Advances the logical clock by one tick (election and heartbeat timeouts count ticks). */
  tick(): void {
    this.#raft.tick();
  }

  /** Starts an election now (with a pre-vote first when enabled). */
  campaign(): ProposalResult {
    return this.#raft.step({ type: MessageType.Hup, to: this.#raft.id, from: this.#raft.id, term: 0 });
  }

  /** Proposes application data to be appended to the log. */
  propose(data: Uint8Array): ProposalResult {
    return this.#raft.step({
      type: MessageType.Prop,
      to: this.#raft.id,
      from: this.#raft.id,
      term: 0,
      entries: [{ term: 0, index: 0, type: EntryType.Normal, data }],
    });
  }

  /** Proposes a configuration change; call applyConfChange when its entry is applied. */
  proposeConfChange(cc: ConfChange): ProposalResult {
    return this.#raft.step({
      type: MessageType.Prop,
      to: this.#raft.id,
      from: this.#raft.id,
      term: 0,
      entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }],
    });
  }

  /** Applies a committed configuration change; throws ConfChangeError (and changes nothing) when invalid. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.#raft.applyConfChange(cc);
  }

  /** Delivers a message from a peer. Local message kinds are refused. */
  step(m: Message): ProposalResult {
    if (isLocalMessage(m.type)) return OK;
    if (isResponseMessage(m.type) && !this.#raft.tracker.progress.has(m.from)) return OK;
    return this.#raft.step(m);
  }

  /**
   * Asks for a read index: a ReadState with this context appears in a later Ready; reads are
   * linearizable once the applied index reaches it.
   */
  readIndex(context: Uint8Array): ProposalResult {
    return this.#raft.step({
      type: MessageType.ReadIndex,
      to: this.#raft.id,
      from: this.#raft.id,
      term: 0,
      entries: [{ term: 0, index: 0, type: EntryType.Normal, data: context }],
    });
  }

  /** Asks the leader to hand leadership to `to` (a voter). */
  transferLeadership(to: NodeId): void {
    this.#raft.step({ type: MessageType.TransferLeader, to: this.#raft.id, from: to, term: 0 });
  }

  /** Campaigns at once as if told by the leader to (for tests and forced transfers). */
  forceCampaign(): ProposalResult {
    return this.#raft.hup(CampaignType.Transfer);
  }

  /** Tells the leader a message to `id` could not be delivered. */
  reportUnreachable(id: NodeId): void {
    this.#raft.step({ type: MessageType.Unreachable, to: this.#raft.id, from: id, term: 0 });
  }

  /** Tells the leader whether the snapshot sent to `id` was delivered. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.#raft.step({ type: MessageType.SnapStatus, to: this.#raft.id, from: id, term: 0, reject: !ok });
  }

  /** Whether there is anything to do. */
  hasReady(): boolean {
    const r = this.#raft;
    if (!softStateEqual(r.softState(), this.#prevSoftState)) return true;
    if (!hardStateEqual(r.hardState(), this.#prevHardState)) return true;
    if (r.log.unstable.snapshot !== undefined) return true;
    if (r.msgs.length > 0 || r.msgsAfterPersist.length > 0) return true;
    if (r.log.unstableEntries().length > 0 || r.log.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0;
  }

  /** Takes the pending work. Call advance(ready) once it is carried out. */
  ready(): Ready {
    const r = this.#raft;
    assert(this.#stepsOnAdvance.length === 0, 'raft: ready() called again before advance()');
    const entries = r.log.unstableEntries().slice();
    const committedEntries = r.log.nextCommittedEntries();
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries,
      messages: r.msgs,
      messagesAfterPersist: [],
      mustSync: false,
    };
    const softState = r.softState();
    if (!softStateEqual(softState, this.#prevSoftState)) {
      rd.softState = softState;
      this.#prevSoftState = softState;
    }
    const hardState = r.hardState();
    if (!hardStateEqual(hardState, this.#prevHardState)) {
      rd.hardState = hardState;
      rd.mustSync = entries.length > 0 || hardState.term !== this.#prevHardState.term || hardState.vote !== this.#prevHardState.vote;
      this.#prevHardState = hardState;
    }
    if (entries.length > 0) rd.mustSync = true;
    if (r.log.unstable.snapshot !== undefined) {
      rd.snapshot = r.log.unstable.snapshot;
      rd.mustSync = true;
    }
    for (const m of r.msgsAfterPersist) {
      if (m.to === r.id) this.#stepsOnAdvance.push(m);
      else rd.messagesAfterPersist.push(m);
    }
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    if (committedEntries.length > 0) {
      r.log.applyingTo(committedEntries[committedEntries.length - 1]!.index);
      r.reduceUncommittedBytes(committedEntries);
    }
    return rd;
  }

  /** The Ready was carried out: its entries and snapshot are persisted and its entries applied. */
  advance(rd: Ready): void {
    const r = this.#raft;
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (rd.snapshot !== undefined) r.log.stableSnapTo(rd.snapshot.metadata.index);
    if (lastEntry !== undefined) r.log.stableTo(lastEntry.index, lastEntry.term);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    let applied = rd.snapshot?.metadata.index ?? 0;
    if (lastCommitted !== undefined) applied = Math.max(applied, lastCommitted.index);
    if (applied > 0) {
      r.log.appliedTo(Math.max(applied, r.log.applied));
      r.onApplied(r.log.applied);
    }
    const steps = this.#stepsOnAdvance;
    this.#stepsOnAdvance = [];
    for (const m of steps) r.step(m);
  }

  /** A view of the node's state. */
  status(): Status {
    const r = this.#raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.role === 'Leader') {
      r.tracker.visit((id, pr) => {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          pendingSnapshot: pr.pendingSnapshot,
          inflight: pr.inflights.count(),
        });
      });
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      confState: r.tracker.confState(),
      progress,
      leadTransferee: r.leadTransferee,
    };
  }

  /** Checks the core's invariants; throws InvariantError. */
  checkInvariants(): void {
    this.#raft.checkInvariants();
  }

  /** The underlying state machine, for tests and the scenario harness. */
  get raft(): Raft {
    return this.#raft;
  }
}

/** Reasons a proposal can be dropped (re-exported for callers). */
export { ProposalDropReason };

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.role === b.role;
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
