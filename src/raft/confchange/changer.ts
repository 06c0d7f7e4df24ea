// Configuration changes, simple and joint (Raft thesis §4.3), computed on copies: the Changer
// copies the tracker's configuration and progress, applies the changes, checks the invariants
// and returns the result; the caller switches to it. The live tracker is never edited, so a
// rejected change leaves nothing half-applied.
import { type ConfChangeSingle, ConfChangeType, type NodeId } from '../messages.ts';
import { isJoint } from '../quorum/joint.ts';
import { Inflights } from '../tracker/inflights.ts';
import { Progress } from '../tracker/progress.ts';
import {
  type ProgressMap,
  type ProgressTracker,
  type TrackerConfig,
  cloneTrackerConfig,
} from '../tracker/tracker.ts';

/** A configuration change that cannot be applied; the message starts with "confchange: ". */
export class ConfChangeError extends Error {
  override name = 'ConfChangeError';
  constructor(detail: string) {
    super(`confchange: ${detail}`);
  }
}

/** A new configuration and the progress map that goes with it. */
export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

/** Computes configurations derived from a tracker's current one. */
export class Changer {
  /** The tracker whose configuration changes start from; only read. */
  readonly tracker: ProgressTracker;
  /** The leader's last log index: new members are probed from there. */
  readonly lastIndex: number;

  constructor(tracker: ProgressTracker, lastIndex: number) {
    this.tracker = tracker;
    this.lastIndex = lastIndex;
  }

  /**
   * Enters a joint configuration: the current voters become the outgoing half, and `changes`
   * apply to the incoming half — (1 2 3)&&() becomes, say, (1 2 4)&&(1 2 3). With `autoLeave`,
   * Raft leaves the joint state by itself once it is committed.
   */
  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.#checkAndCopy();
    if (isJoint(config.voters)) throw new ConfChangeError('config is already joint');
    // An empty configuration may be built up with simple changes (bootstrap, tests), but a
    // joint state needs an outgoing majority to mean anything.
    if (config.voters.incoming.size === 0) {
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    config.voters.outgoing = new Set(config.voters.incoming);
    this.#apply(config, progress, changes);
    config.autoLeave = autoLeave;
    return checked(config, progress);
  }

  /**
   * Leaves a joint configuration: the incoming half alone decides, staged learners become
   * learners, and outgoing voters that are no longer members lose their progress.
   */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.#checkAndCopy();
    if (!isJoint(config.voters)) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext.clear();
    for (const id of config.voters.outgoing) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
    }
    config.voters.outgoing.clear();
    config.autoLeave = false;
    return checked(config, progress);
  }

  /**
   * Applies `changes` in one step, outside a joint state. Safe only when the voters change by at
   * most one (any two majorities of the old and new sets then overlap); more needs enterJoint.
   */
  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.#checkAndCopy();
    if (isJoint(config.voters)) {
      throw new ConfChangeError("can't apply simple config change in joint config");
    }
    this.#apply(config, progress, changes);
    if (symmetricDifference(this.tracker.config.voters.incoming, config.voters.incoming) > 1) {
      throw new ConfChangeError('more than one voter changed without entering joint config');
    }
    return checked(config, progress);
  }

  /** Applies changes to the incoming half; voter changes never touch the outgoing half. */
  #apply(config: TrackerConfig, progress: ProgressMap, changes: readonly ConfChangeSingle[]): void {
    for (const change of changes) {
      // etcd's server zeroes the id of a change it decided not to apply; such changes are no-ops.
      if (change.nodeId === 0n) continue;
      switch (change.type) {
        case ConfChangeType.AddNode:
          this.#makeVoter(config, progress, change.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.#makeLearner(config, progress, change.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          remove(config, progress, change.nodeId);
          break;
        default:
          // Reachable with data decoded from an untrusted or newer peer.
          throw new ConfChangeError(`unexpected conf type ${JSON.stringify(change.type)}`);
      }
    }
    if (config.voters.incoming.size === 0) throw new ConfChangeError('removed all voters');
  }

  /** Adds a voter, or promotes a learner (staged or not) to one. */
  #makeVoter(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.#initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters.incoming.add(id);
  }

  /**
   * Adds a learner or demotes a voter. A node still voting in the outgoing half cannot be a
   * learner yet (voters and learners must stay disjoint), so it is staged in learnersNext and
   * becomes a learner when the joint state is left.
   */
  #makeLearner(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.#initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    remove(config, progress, id);
    // Demotion keeps what we know of the node's log.
    progress.set(id, pr);
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  /** Tracks a new member, probed from the leader's last index. */
  #initProgress(cfg: TrackerConfig, progress: ProgressMap, id: NodeId, isLearner: boolean): void {
    if (isLearner) cfg.learners.add(id);
    else cfg.voters.incoming.add(id);
    progress.set(
      id,
      new Progress({
        // Probing from the last index assumes a fresh node; a rejection walks next back (or a
        // snapshot is sent), which costs one round trip. Next must stay above match (0).
        match: 0,
        next: Math.max(this.lastIndex, 1),
        inflights: new Inflights(this.tracker.inflightMsgsMax, this.tracker.inflightBytesMax),
        isLearner,
        // A new member counts as active, so check-quorum does not depose the leader before the
        // newcomer has had a chance to answer.
        recentActive: true,
      }),
    );
  }

  /** Copies the tracker's state (deeply: the copies are edited), checking it first. */
  #checkAndCopy(): ChangeResult {
    const config = cloneTrackerConfig(this.tracker.config);
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) progress.set(id, pr.clone());
    return checked(config, progress);
  }
}

/** Removes a voter or learner from the incoming half; an outgoing voter keeps its progress. */
function remove(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
  if (!progress.has(id)) return;
  config.voters.incoming.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  if (!config.voters.outgoing.has(id)) progress.delete(id);
}

/**
 * Throws unless `config` and `progress` agree: every member has a progress, learners are
 * disjoint from voters, staged learners are outgoing voters, and nothing joint-only is set
 * outside a joint state. The empty configuration is allowed (it is where bootstrap starts).
 */
export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  const { voters, learners, learnersNext } = config;
  for (const ids of [voters.incoming, voters.outgoing, learners, learnersNext]) {
    for (const id of ids) {
      if (!progress.has(id)) throw new ConfChangeError(`no progress for ${id}`);
    }
  }
  for (const id of config.learnersNext) {
    if (!config.voters.outgoing.has(id)) {
      throw new ConfChangeError(`${id} is in LearnersNext, but not Voters[1]`);
    }
    if (progress.get(id)!.isLearner) {
      throw new ConfChangeError(`${id} is in LearnersNext, but is already marked as learner`);
    }
  }
  for (const id of config.learners) {
    if (voters.outgoing.has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[1]`);
    if (voters.incoming.has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[0]`);
    if (!progress.get(id)!.isLearner) {
      throw new ConfChangeError(`${id} is in Learners, but is not marked as learner`);
    }
  }
  if (!isJoint(config.voters)) {
    if (config.learnersNext.size > 0) {
      throw new ConfChangeError('LearnersNext must be empty when not joint');
    }
    if (config.autoLeave) throw new ConfChangeError('AutoLeave must be false when not joint');
  }
}

function checked(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

/** How many ids are in exactly one of the two sets. */
function symmetricDifference(a: ReadonlySet<NodeId>, b: ReadonlySet<NodeId>): number {
  let n = 0;
  for (const id of a) if (!b.has(id)) n++;
  for (const id of b) if (!a.has(id)) n++;
  return n;
}
