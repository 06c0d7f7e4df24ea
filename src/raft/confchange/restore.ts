// Rebuilds a configuration from a ConfState (from a snapshot or at boot) by replaying changes
// through the Changer, so a restored configuration passes the same checks as a live one.
// A joint ConfState is rebuilt in two stages: first the outgoing voters as a plain
// configuration, then a joint change into the incoming one.
import { type ConfChangeSingle, type ConfState, ConfChangeType } from '../messages.ts';
import { type ProgressMap, ProgressTracker, cloneTrackerConfig } from '../tracker/tracker.ts';
import { type ChangeResult, Changer } from './changer.ts';

/**
 * The configuration described by `cs`, built on `changer`'s tracker, which must hold an empty
 * configuration. Throws ConfChangeError when `cs` is not a valid configuration.
 */
export function restore(changer: Changer, cs: ConfState): ChangeResult {
  const { outgoing, incoming } = toChanges(cs);
  // Each step starts from the previous step's result, on a scratch tracker: the caller's tracker
  // stays untouched, as with every Changer operation.
  const { inflightMsgsMax, inflightBytesMax } = changer.tracker;
  const scratch = new ProgressTracker(inflightMsgsMax, inflightBytesMax);
  scratch.config = changer.tracker.config;
  scratch.progress = changer.tracker.progress;
  let result: ChangeResult = { config: scratch.config, progress: scratch.progress };
  const step = (op: (c: Changer) => ChangeResult): void => {
    result = op(new Changer(scratch, changer.lastIndex));
    scratch.config = result.config;
    scratch.progress = result.progress;
  };
  if (outgoing.length === 0) {
    // Not joint: one change at a time, each a valid simple change.
    for (const change of incoming) step((c) => c.simple([change]));
  } else {
    // (1 2 3)&&(2 3 4): first build (2 3 4) one voter at a time, then enter the joint state with
    // changes that remove 2 3 4 and add 1 2 3 to the incoming half.
    for (const change of outgoing) step((c) => c.simple([change]));
    step((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  if (result.config === changer.tracker.config) {
    // Nothing to apply (an empty ConfState): still hand back copies, never the live objects.
    const progress: ProgressMap = new Map();
    for (const [id, pr] of result.progress) progress.set(id, pr.clone());
    return { config: cloneTrackerConfig(result.config), progress };
  }
  return result;
}

/**
 * The changes that build the outgoing configuration, and the changes that, applied as a joint
 * change on top of it, give the incoming one. Learners cannot be told apart from ones added
 * before the joint state; adding them with the incoming changes gives the same result.
 */
function toChanges(cs: ConfState): { outgoing: ConfChangeSingle[]; incoming: ConfChangeSingle[] } {
  const add = ConfChangeType.AddNode;
  const outgoing = cs.votersOutgoing.map((nodeId) => ({ type: add, nodeId }));
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((nodeId) => ({ type: ConfChangeType.RemoveNode, nodeId })),
    ...cs.voters.map((nodeId) => ({ type: add, nodeId })),
    ...cs.learners.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId })),
    // Outgoing voters that become learners on leaving: added as learners while still outgoing
    // voters, which stages them in learnersNext.
    ...cs.learnersNext.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId })),
  ];
  return { outgoing, incoming };
}
