// Membership and leadership changes on a simulated cluster, as tests and the fault scheduler ask
// for them: add a voter or a learner, remove, promote a learner, replace a voter in one joint
// change (left automatically or explicitly). Each goes through the current leader and may be refused.
import type { NodeId } from '../../src/raft/messages.ts';
import type { Id, Simulator } from './cluster.ts';
import { FaultKind } from './profile.ts';

/** Adds a new member (a voter, or a learner); its id, or undefined when refused. */
export function addMember(sim: Simulator, learner = false): NodeId | undefined {
  const id = sim.freshId();
  const type = learner ? 'AddLearnerNode' : 'AddNode';
  const ok = sim.changeMembership('auto', [{ type, nodeId: id }], learner ? FaultKind.AddLearner : FaultKind.AddMember);
  return ok ? id : undefined;
}

/** Removes a member (voter or learner). */
export function removeMember(sim: Simulator, id: Id): boolean {
  return sim.changeMembership('auto', [{ type: 'RemoveNode', nodeId: BigInt(id) }], FaultKind.RemoveMember);
}

/** Promotes a learner to voter. */
export function promoteLearner(sim: Simulator, id: Id): boolean {
  return sim.changeMembership('auto', [{ type: 'AddNode', nodeId: BigInt(id) }], FaultKind.PromoteLearner);
}

/** Replaces voter `out` by a new member in one joint change; the new id, or undefined when refused. */
export function replaceJoint(sim: Simulator, out: Id, explicit: boolean): NodeId | undefined {
  const id = sim.freshId();
  const changes = [{ type: 'AddNode' as const, nodeId: id }, { type: 'RemoveNode' as const, nodeId: BigInt(out) }];
  return sim.changeMembership(explicit ? 'explicit' : 'implicit', changes, FaultKind.JointChange) ? id : undefined;
}
