// A leader's view of one follower: how much of the log it is known to hold (match), what to send
// next, and the flow-control state that decides whether to send at all.
// Invariant: 0 <= match < next. State changes go through the become* methods:
//
//              acked                                 needed entries compacted away
//   Probe  ------------->  Replicate         Probe, Replicate  ---------------------->  Snapshot
//   Probe  <-------------  Replicate         Probe      <----  Snapshot  (reported done or failed)
//        rejected / unreachable               Replicate  <----  Snapshot  (an ack reconnects it)
import { assert } from '../../util/assert.ts';
import type { Inflights } from './inflights.ts';

/**
 * How the leader talks to a follower:
 *   probe     – one append at a time, then wait for an answer (next is uncertain);
 *   replicate – stream appends optimistically, bounded by the inflights window;
 *   snapshot  – a snapshot is on its way; send no appends until it lands.
 */
export const ProgressState = {
  Probe: 'probe',
  Replicate: 'replicate',
  Snapshot: 'snapshot',
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

const stateNames: Record<ProgressState, string> = {
  probe: 'StateProbe',
  replicate: 'StateReplicate',
  snapshot: 'StateSnapshot',
};

/** What a new Progress starts from. */
export interface ProgressInit {
  match: number;
  next: number;
  inflights: Inflights;
  isLearner: boolean;
  recentActive?: boolean;
}

/** The replication state of one follower (or learner), as the leader tracks it. */
export class Progress {
  /** The highest index known to be in the follower's log, agreeing with the leader's. */
  match: number;
  /** The index of the next entry to send; entries in (match, next) are in flight. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /**
   * In snapshot state: the leader's last index when it decided a snapshot was needed. Replication
   * resumes from past it if the follower reports the snapshot applied but its ack is lost.
   */
  pendingSnapshot = 0;
  /**
   * The highest commit index sent to this follower (in an append or heartbeat). Lets the leader
   * tell a follower whose ack arrived after the commit about it at once (etcd's CanBumpCommit).
   */
  sentCommit = 0;
  /** Heard from the follower since the last check-quorum round; true for the leader itself. */
  recentActive: boolean;
  /**
   * Appends are held back: in probe state after each probe until the follower answers (an
   * append or heartbeat response clears it), so that probes go out once per heartbeat at most.
   */
  msgAppFlowPaused = false;
  /** Appends in flight in replicate state. */
  inflights: Inflights;
  isLearner: boolean;

  constructor(init: ProgressInit) {
    assert(init.match < init.next, () => `progress: match ${init.match} not < next ${init.next}`);
    this.match = init.match;
    this.next = init.next;
    this.inflights = init.inflights;
    this.isLearner = init.isLearner;
    this.recentActive = init.recentActive ?? false;
  }

  /**
   * Enters probe state. Coming from a snapshot, the follower has (at least) the snapshot, so
   * probing starts right after it; otherwise after the last index known to match.
   */
  becomeProbe(): void {
    const wasSnapshot = this.state === ProgressState.Snapshot;
    const pendingSnapshot = this.pendingSnapshot;
    this.#resetState(ProgressState.Probe);
    this.next = wasSnapshot ? Math.max(this.match + 1, pendingSnapshot + 1) : this.match + 1;
  }

  /** Enters replicate state: stream from right after the last matched index. */
  becomeReplicate(): void {
    this.#resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  /** Enters snapshot state, waiting for a snapshot at `snapshotIndex` to be applied. */
  becomeSnapshot(snapshotIndex: number): void {
    this.#resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Records that an append carrying `entries` entries (`bytes` of payload), the first at
   * `nextIndex`, was sent. In replicate state next moves past them and they join the window; the
   * flow pauses if that filled it. In probe state a non-empty append is the probe: pause until the
   * follower answers.
   */
  updateOnEntriesSend(entries: number, bytes: number, nextIndex: number): void {
    switch (this.state) {
      case ProgressState.Replicate:
        if (entries > 0) {
          const last = nextIndex + entries - 1;
          this.optimisticUpdate(last);
          this.inflights.add(last, bytes);
        }
        this.msgAppFlowPaused = this.inflights.full();
        return;
      case ProgressState.Probe:
        // NB: an empty append does not pause the probe, as in etcd; only entries do.
        if (entries > 0) this.msgAppFlowPaused = true;
        return;
      case ProgressState.Snapshot:
        assert(false, 'progress: sending append in snapshot state');
    }
  }

  /** Moves next past `last`, assuming an append ending there will be accepted. */
  optimisticUpdate(last: number): void {
    this.next = last + 1;
  }

  /**
   * The follower acknowledged everything up to `n`. Returns false when the ack is stale (match
   * does not grow); next never moves backwards.
   */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /**
   * The follower rejected the append whose previous entry was `rejected`, hinting that its log
   * may match up to `matchHint`. Stale rejections (reordered or duplicated messages) return false
   * and change nothing. Otherwise next backs off and a new probe may be sent.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Below match, the rejection predates an acceptance we already saw.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probes go out one at a time, so a genuine rejection is of the latest probe: next - 1.
    if (this.next - 1 !== rejected) return false;
    // The hint may point below match (a follower that lost unsynced entries); never go below
    // match + 1, which would break match < next.
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * Sending appends is held back: in probe state until the last probe is answered, in replicate
   * state while the inflights window is full, in snapshot state always.
   */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.msgAppFlowPaused;
      case ProgressState.Replicate:
        // Set when the window fills; a heartbeat response clears it so that an empty append can
        // probe a follower whose in-flight appends were all lost (it then rejects, and we probe).
        return this.msgAppFlowPaused;
      case ProgressState.Snapshot:
        return true;
    }
  }

  /** One line in etcd's format, e.g. "StateReplicate match=5 next=6 inflight=1". Stable. */
  describe(): string {
    let out = `${stateNames[this.state]} match=${this.match} next=${this.next}`;
    if (this.isLearner) out += ' learner';
    if (this.isPaused()) out += ' paused';
    if (this.pendingSnapshot > 0) out += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) out += ' inactive';
    const inflight = this.inflights.count();
    if (inflight > 0) out += ` inflight=${inflight}${this.inflights.full() ? '[full]' : ''}`;
    return out;
  }

  /**
   * Whether sending commit index `commit` may move the follower's commit: it is newer than what
   * was sent, and what was sent did not already cover everything the follower has (next - 1).
   */
  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** An independent copy, inflights included. */
  clone(): Progress {
    const copy = new Progress({
      match: this.match,
      next: this.next,
      inflights: this.inflights.clone(),
      isLearner: this.isLearner,
      recentActive: this.recentActive,
    });
    copy.state = this.state;
    copy.pendingSnapshot = this.pendingSnapshot;
    copy.msgAppFlowPaused = this.msgAppFlowPaused;
    copy.sentCommit = this.sentCommit;
    return copy;
  }

  /** Changes state, clearing what belongs to the old one. */
  #resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }
}
