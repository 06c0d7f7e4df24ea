// Joint quorums (Raft thesis §4.3): during a membership change, decisions need a majority of the
// incoming voters AND a majority of the outgoing voters. Outside a change the outgoing half is
// empty, and an empty half agrees to everything, so the same code serves both cases.
import type { NodeId } from '../messages.ts';
import {
  type AckedIndexer,
  type VoteResult,
  majorityCommittedIndex,
  majorityVoteResult,
} from './majority.ts';

/** The voters of a configuration: `outgoing` is empty unless a joint change is in progress. */
export interface JointConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
}

/** The largest index committed by both halves (the smaller of the two majority indexes). */
export function jointCommittedIndex(cfg: JointConfig, acked: AckedIndexer): number {
  const incoming = majorityCommittedIndex(cfg.incoming, acked);
  const outgoing = majorityCommittedIndex(cfg.outgoing, acked);
  return incoming < outgoing ? incoming : outgoing;
}

/** Won only when both halves are won; lost as soon as either half is lost; else pending. */
export function jointVoteResult(cfg: JointConfig, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const incoming = majorityVoteResult(cfg.incoming, votes);
  const outgoing = majorityVoteResult(cfg.outgoing, votes);
  if (incoming === outgoing) return incoming;
  if (incoming === 'lost' || outgoing === 'lost') return 'lost';
  return 'pending';
}

/** Every voter of either half, each once. */
export function jointVoters(cfg: JointConfig): Set<NodeId> {
  const ids = new Set(cfg.incoming);
  for (const id of cfg.outgoing) ids.add(id);
  return ids;
}

/** True while a joint change is in progress (the outgoing half is non-empty). */
export function isJoint(cfg: JointConfig): boolean {
  return cfg.outgoing.size > 0;
}

/** Ids in ascending order (bigints do not sort numerically with the default comparator). */
export function sortedIds(ids: Iterable<NodeId>): NodeId[] {
  return Array.from(ids).sort(compareIds);
}

/** Numeric order of node ids. */
export function compareIds(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "(1 2 3)" for a plain configuration, "(1 2 3)&&(1 2)" while joint — etcd's notation. */
export function describeJointConfig(cfg: JointConfig): string {
  const incoming = `(${sortedIds(cfg.incoming).join(' ')})`;
  return isJoint(cfg) ? `${incoming}&&(${sortedIds(cfg.outgoing).join(' ')})` : incoming;
}
