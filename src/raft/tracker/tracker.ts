// The leader's (and candidate's) bookkeeping: the active configuration, a Progress per member,
// and the votes of the current election. Invariant: every voter, learner and staged learner has
// a Progress; a node is never both voter and learner (confchange keeps this when it builds one).
import type { ConfState, NodeId } from '../messages.ts';
import {
  type JointConfig,
  compareIds,
  describeJointConfig,
  isJoint,
  jointCommittedIndex,
  jointVoteResult,
  jointVoters,
  sortedIds,
} from '../quorum/joint.ts';
import type { VoteResult } from '../quorum/majority.ts';
import type { Progress } from './progress.ts';

/**
 * A configuration. While joint, `learnersNext` holds outgoing voters that become learners when
 * the joint state is left: they cannot be learners yet, as they still vote in the outgoing half.
 */
export interface TrackerConfig {
  voters: JointConfig;
  /** Leave the joint state automatically once it is committed (false when not joint). */
  autoLeave: boolean;
  /** Non-voting members; disjoint from both halves of `voters`. */
  learners: Set<NodeId>;
  /** Empty unless joint; a subset of `voters.outgoing`. */
  learnersNext: Set<NodeId>;
}

/** Progress by node id. */
export type ProgressMap = Map<NodeId, Progress>;

/** An empty configuration (no voters, no learners). */
export function emptyTrackerConfig(): TrackerConfig {
  return {
    voters: { incoming: new Set(), outgoing: new Set() },
    autoLeave: false,
    learners: new Set(),
    learnersNext: new Set(),
  };
}

/** A copy sharing no sets with the original. */
export function cloneTrackerConfig(cfg: TrackerConfig): TrackerConfig {
  return {
    voters: { incoming: new Set(cfg.voters.incoming), outgoing: new Set(cfg.voters.outgoing) },
    autoLeave: cfg.autoLeave,
    learners: new Set(cfg.learners),
    learnersNext: new Set(cfg.learnersNext),
  };
}

/** etcd's notation: "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave". */
export function describeTrackerConfig(cfg: TrackerConfig): string {
  let out = `voters=${describeJointConfig(cfg.voters)}`;
  if (cfg.learners.size > 0) out += ` learners=(${sortedIds(cfg.learners).join(' ')})`;
  if (cfg.learnersNext.size > 0) out += ` learners_next=(${sortedIds(cfg.learnersNext).join(' ')})`;
  if (cfg.autoLeave) out += ' autoleave';
  return out;
}

/** One line per member, ascending id: "1: StateReplicate match=5 next=6". */
export function describeProgressMap(progress: ProgressMap): string {
  return sortedIds(progress.keys())
    .map((id) => `${id}: ${progress.get(id)!.describe()}\n`)
    .join('');
}

/** The configuration, the progress of each member, and the votes of the current election. */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  /** Replaced wholesale on a configuration change (see confchange), not edited in place. */
  progress: ProgressMap = new Map();
  votes = new Map<NodeId, boolean>();
  /** Appends in flight per follower, for new Progress entries. */
  readonly inflightMsgsMax: number;
  /** Bytes in flight per follower (0: unbounded), for new Progress entries. */
  readonly inflightBytesMax: number;

  // visit() runs per proposal on a leader; the sorted id list is reused while the key set holds.
  #visitIds: NodeId[] = [];
  readonly #matchOf = (id: NodeId): number | undefined => this.progress.get(id)?.match;

  constructor(inflightMsgsMax: number, inflightBytesMax: number) {
    this.inflightMsgsMax = inflightMsgsMax;
    this.inflightBytesMax = inflightBytesMax;
  }

  /** The configuration as persisted in snapshots: sorted id lists. */
  confState(): ConfState {
    return {
      voters: sortedIds(this.config.voters.incoming),
      learners: sortedIds(this.config.learners),
      votersOutgoing: sortedIds(this.config.voters.outgoing),
      learnersNext: sortedIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  /** Exactly one voter and not joint: the leader alone is a quorum. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !isJoint(this.config.voters);
  }

  /** The largest index acknowledged (match) by a quorum of the voters. */
  committed(): number {
    return jointCommittedIndex(this.config.voters, this.#matchOf);
  }

  /** Calls `fn` for every tracked member, in ascending id order (deterministic message order). */
  visit(fn: (id: NodeId, pr: Progress) => void): void {
    const ids = this.#sortedProgressIds();
    for (const id of ids) {
      const pr = this.progress.get(id);
      if (pr !== undefined) fn(id, pr);
    }
  }

  /** The voters heard from recently form a quorum (check-quorum keeps a leader only then). */
  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (!pr.isLearner) active.set(id, pr.recentActive);
    }
    return jointVoteResult(this.config.voters, active) === 'won';
  }

  /** Voters of either half, ascending. */
  voterNodes(): NodeId[] {
    return sortedIds(jointVoters(this.config.voters));
  }

  /** Learners and staged learners, ascending. */
  learnerNodes(): NodeId[] {
    const ids = new Set(this.config.learners);
    for (const id of this.config.learnersNext) ids.add(id);
    return sortedIds(ids);
  }

  /** A voter in either half. */
  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  /** Starts a new election's count. */
  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records `id`'s answer; a later answer from the same node (a duplicate) does not count. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /**
   * The election so far. The counts cover tracked voters only (informational); the result is
   * decided by the joint quorum rule.
   */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }

  /** The progress ids, sorted; recomputed only when the key set changed. */
  #sortedProgressIds(): NodeId[] {
    const cached = this.#visitIds;
    let valid = cached.length === this.progress.size;
    for (let i = 0; valid && i < cached.length; i++) valid = this.progress.has(cached[i]!);
    if (!valid) this.#visitIds = Array.from(this.progress.keys()).sort(compareIds);
    return this.#visitIds;
  }
}
