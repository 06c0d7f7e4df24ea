import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NodeId } from '../../src/raft/messages.ts';
import {
  type AckedIndexer,
  type VoteResult,
  majorityCommittedIndex,
  majorityVoteResult,
} from '../../src/raft/quorum/majority.ts';
import {
  describeJointConfig,
  jointCommittedIndex,
  jointVoteResult,
  jointVoters,
} from '../../src/raft/quorum/joint.ts';

const MAX = Number.MAX_SAFE_INTEGER;
const ids = (...xs: number[]): Set<NodeId> => new Set(xs.map(BigInt));
const acks = (entries: Record<number, number>): AckedIndexer => {
  const m = new Map(Object.entries(entries).map(([k, v]) => [BigInt(k), v]));
  return (id) => m.get(id);
};
const votes = (entries: Record<number, boolean>): Map<NodeId, boolean> =>
  new Map(Object.entries(entries).map(([k, v]) => [BigInt(k), v]));

/** The deliberately naive reference: sort all acks descending, take the quorum-th. */
function naiveCommittedIndex(voters: ReadonlySet<NodeId>, acked: AckedIndexer): number {
  if (voters.size === 0) return MAX;
  const sorted = [...voters].map((id) => acked(id) ?? 0).sort((a, b) => b - a);
  return sorted[Math.floor(voters.size / 2)]!;
}

function naiveVoteResult(voters: ReadonlySet<NodeId>, v: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  const yes = [...voters].filter((id) => v.get(id) === true).length;
  const no = [...voters].filter((id) => v.get(id) === false).length;
  const quorum = Math.floor(voters.size / 2) + 1;
  if (yes >= quorum) return 'won';
  if (voters.size - no < quorum) return 'lost';
  return 'pending';
}

test('quorum - majority committed index is the index a majority has acknowledged', () => {
  const cases: Array<[Set<NodeId>, Record<number, number>, number]> = [
    [ids(), {}, MAX],
    [ids(1), {}, 0],
    [ids(1), { 1: 12 }, 12],
    [ids(1, 2), { 1: 12, 2: 5 }, 5],
    [ids(1, 2, 3), { 1: 12, 2: 5 }, 5],
    [ids(1, 2, 3), { 1: 12, 2: 5, 3: 4 }, 5],
    [ids(1, 2, 3), { 1: 12 }, 0],
    [ids(1, 2, 3, 4), { 1: 12, 2: 100, 3: 5, 4: 6 }, 6],
    [ids(1, 2, 3, 4, 5), { 1: 12, 2: 100, 3: 5, 4: 6, 5: 7 }, 7],
    [ids(1, 2, 3, 4, 5, 6, 7), { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7 }, 4],
    [ids(1, 2, 3, 4, 5, 6, 7, 8, 9), { 1: 9, 2: 8, 3: 7, 4: 6, 5: 5, 6: 4, 7: 3, 8: 2, 9: 1 }, 5],
    // Acks from non-voters do not count.
    [ids(1, 2, 3), { 1: 10, 4: 10, 5: 10 }, 0],
  ];
  for (const [voters, acked, want] of cases) {
    const what = `${[...voters]} ${JSON.stringify(acked)}`;
    assert.equal(majorityCommittedIndex(voters, acks(acked)), want, what);
  }
});

test('quorum - majority vote result wins, loses or waits as the votes so far decide', () => {
  const cases: Array<[Set<NodeId>, Record<number, boolean>, VoteResult]> = [
    [ids(), {}, 'won'],
    [ids(1), {}, 'pending'],
    [ids(1), { 1: true }, 'won'],
    [ids(1), { 1: false }, 'lost'],
    [ids(1, 2), { 1: true }, 'pending'],
    [ids(1, 2), { 1: true, 2: false }, 'lost'],
    [ids(1, 2, 3), { 1: true, 2: false }, 'pending'],
    [ids(1, 2, 3), { 1: true, 3: true }, 'won'],
    [ids(1, 2, 3), { 1: false, 3: false }, 'lost'],
    [ids(1, 2, 3, 4), { 1: true, 2: true, 3: false }, 'pending'],
    [ids(1, 2, 3, 4), { 1: true, 2: false, 3: false }, 'lost'],
    // Votes from non-voters do not count.
    [ids(1, 2, 3), { 1: true, 4: true, 5: true }, 'pending'],
  ];
  for (const [voters, v, want] of cases) {
    assert.equal(majorityVoteResult(voters, votes(v)), want, `${[...voters]} ${JSON.stringify(v)}`);
  }
});

test('quorum - a joint config commits the smaller of its halves, ignoring an empty half', () => {
  const acked = acks({ 1: 10, 2: 8, 3: 6, 4: 4, 5: 2 });
  const cases: Array<[Set<NodeId>, Set<NodeId>, number]> = [
    [ids(1, 2, 3), ids(), 8],
    [ids(), ids(1, 2, 3), 8],
    [ids(), ids(), MAX],
    [ids(1, 2, 3), ids(3, 4, 5), 4],
    [ids(3, 4, 5), ids(1, 2, 3), 4],
    [ids(1, 2, 3), ids(1, 2, 3), 8],
    [ids(1), ids(5), 2],
  ];
  for (const [incoming, outgoing, want] of cases) {
    const cfg = { incoming, outgoing };
    assert.equal(jointCommittedIndex(cfg, acked), want, describeJointConfig(cfg));
  }
});

test('quorum - a joint vote is won only in both halves and lost when either half is lost', () => {
  const cases: Array<[Set<NodeId>, Set<NodeId>, Record<number, boolean>, VoteResult]> = [
    [ids(1, 2, 3), ids(), { 1: true, 2: true }, 'won'],
    [ids(), ids(), {}, 'won'],
    [ids(1, 2, 3), ids(3, 4, 5), { 1: true, 2: true }, 'pending'],
    [ids(1, 2, 3), ids(3, 4, 5), { 1: true, 2: true, 4: true, 5: true }, 'won'],
    [ids(1, 2, 3), ids(3, 4, 5), { 1: true, 2: true, 4: false, 5: false }, 'lost'],
    [ids(1, 2, 3), ids(3, 4, 5), { 1: false, 2: false }, 'lost'],
    [ids(1, 2, 3), ids(3, 4, 5), { 3: true }, 'pending'],
    [ids(1, 2, 3), ids(3, 4, 5), { 3: true, 1: true, 4: true }, 'won'],
  ];
  for (const [incoming, outgoing, v, want] of cases) {
    const cfg = { incoming, outgoing };
    const what = `${describeJointConfig(cfg)} ${JSON.stringify(v)}`;
    assert.equal(jointVoteResult(cfg, votes(v)), want, what);
  }
});

test('quorum - joint voters are the union of both halves', () => {
  assert.deepEqual(jointVoters({ incoming: ids(1, 2, 3), outgoing: ids(3, 4) }), ids(1, 2, 3, 4));
  assert.deepEqual(jointVoters({ incoming: ids(), outgoing: ids() }), ids());
  assert.equal(describeJointConfig({ incoming: ids(10, 2), outgoing: ids() }), '(2 10)');
  assert.equal(describeJointConfig({ incoming: ids(1), outgoing: ids(2, 3) }), '(1)&&(2 3)');
});

// Voter sets of up to 12 ids (past the 7-voter scratch buffer); acks may be missing or come
// from non-voters.
const voterSetArb = fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 12 }).map(
  (xs) => new Set(xs.map(BigInt)),
);
const ackMapArb = fc.dictionary(
  fc.integer({ min: 1, max: 20 }).map(String),
  fc.integer({ min: 0, max: 1_000_000 }),
);
const voteMapArb = fc.dictionary(fc.integer({ min: 1, max: 20 }).map(String), fc.boolean());

test('quorum - majority committed index agrees with a naive sort for random acks', () => {
  fc.assert(
    fc.property(voterSetArb, ackMapArb, (voters, acked) => {
      const indexer = acks(acked as Record<number, number>);
      assert.equal(majorityCommittedIndex(voters, indexer), naiveCommittedIndex(voters, indexer));
    }),
    { numRuns: 2000 },
  );
});

test('quorum - majority vote result agrees with a naive count for random votes', () => {
  fc.assert(
    fc.property(voterSetArb, voteMapArb, (voters, v) => {
      const m = votes(v as Record<number, boolean>);
      assert.equal(majorityVoteResult(voters, m), naiveVoteResult(voters, m));
    }),
    { numRuns: 2000 },
  );
});

test('quorum - a joint config with equal halves behaves like one majority config', () => {
  fc.assert(
    fc.property(voterSetArb, ackMapArb, voteMapArb, (voters, acked, v) => {
      const cfg = { incoming: voters, outgoing: new Set(voters) };
      const indexer = acks(acked as Record<number, number>);
      const m = votes(v as Record<number, boolean>);
      assert.equal(jointCommittedIndex(cfg, indexer), majorityCommittedIndex(voters, indexer));
      assert.equal(jointVoteResult(cfg, m), majorityVoteResult(voters, m));
    }),
  );
});
