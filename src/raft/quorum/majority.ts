// Majority quorums: the committed index and the election outcome of one set of voters.
// Pure functions over a voter set; a joint configuration combines two of them (joint.ts).
// Convention: the empty set agrees to everything, so an unused outgoing half never blocks a joint
// configuration (etcd's MajorityConfig does the same).
import type { NodeId } from '../messages.ts';

/** The outcome of an election as far as the votes received so far can tell. */
export type VoteResult = 'pending' | 'lost' | 'won';

/** The index a node has acknowledged, or undefined when unknown (counts as 0). */
export type AckedIndexer = (id: NodeId) => number | undefined;

// Sets of up to this many voters are sorted in a reused scratch buffer, so the leader's commit
// check (run on every append response) allocates nothing for the usual 3-, 5- or 7-member cluster.
const SCRATCH_VOTERS_MAX = 7;
const scratch = new Float64Array(SCRATCH_VOTERS_MAX);

/**
 * The largest index acknowledged by a majority of `voters`. An empty set returns
 * `Number.MAX_SAFE_INTEGER`, so that taking the minimum with a non-empty half of a joint
 * configuration yields that half's index.
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, acked: AckedIndexer): number {
  const n = voters.size;
  if (n === 0) return Number.MAX_SAFE_INTEGER;
  // NB: the scratch buffer is shared, which is safe because the core is synchronous and this
  // function does not call out while the buffer is live (acked is only called while filling it).
  const buf = n <= SCRATCH_VOTERS_MAX ? scratch : new Float64Array(n);
  // Insertion sort while filling: ascending, cheap for the small sets that are the common case.
  let filled = 0;
  for (const id of voters) {
    const index = acked(id) ?? 0;
    let j = filled;
    while (j > 0 && buf[j - 1]! > index) {
      buf[j] = buf[j - 1]!;
      j--;
    }
    buf[j] = index;
    filled++;
  }
  // With ascending order, the element at n - (n/2 + 1) is acknowledged by itself and every node
  // above it: n/2 + 1 nodes, a majority.
  return buf[n - (Math.floor(n / 2) + 1)]!;
}

/**
 * Whether `voters` elect a candidate given the votes so far (true: granted, false: rejected,
 * absent: not yet answered). An empty set wins, for the same reason as above.
 */
export function majorityVoteResult(
  voters: ReadonlySet<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}
