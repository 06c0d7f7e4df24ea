import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from '../../src/raft/tracker/inflights.ts';
import { Progress, ProgressState } from '../../src/raft/tracker/progress.ts';
import { ProgressTracker } from '../../src/raft/tracker/tracker.ts';
import { Changer } from '../../src/raft/confchange/changer.ts';
import { confChangesFromString } from '../../src/raft/confchange/conf-change.ts';
import type { NodeId } from '../../src/raft/messages.ts';
import { InvariantError } from '../../src/util/assert.ts';

function progress(
  match: number,
  next: number,
  opts: { state?: ProgressState; pendingSnapshot?: number; capacity?: number } = {},
): Progress {
  const pr = new Progress({
    match,
    next,
    inflights: new Inflights(opts.capacity ?? 256, 0),
    isLearner: false,
    recentActive: true,
  });
  if (opts.state === ProgressState.Replicate) pr.becomeReplicate();
  if (opts.state === ProgressState.Snapshot) pr.becomeSnapshot(opts.pendingSnapshot ?? 0);
  // become* reset next; put it back where the case wants it.
  pr.next = next;
  return pr;
}

test('progress - becomeProbe resumes after match, or after a snapshot when coming from one', () => {
  const cases: Array<[Progress, number]> = [
    [progress(1, 5, { state: ProgressState.Replicate }), 2],
    [progress(1, 5, { state: ProgressState.Snapshot, pendingSnapshot: 10 }), 11],
    [progress(1, 5, { state: ProgressState.Snapshot, pendingSnapshot: 0 }), 2],
    [progress(20, 21, { state: ProgressState.Snapshot, pendingSnapshot: 10 }), 21],
  ];
  for (const [pr, wantNext] of cases) {
    pr.msgAppFlowPaused = true;
    pr.becomeProbe();
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.match, pr.match);
    assert.equal(pr.next, wantNext);
    assert.equal(pr.pendingSnapshot, 0);
    assert.equal(pr.msgAppFlowPaused, false);
  }
});

test('progress - becomeReplicate streams from match+1 with an empty window', () => {
  const pr = progress(1, 5);
  pr.inflights.add(3, 1);
  pr.becomeReplicate();
  assert.equal(pr.state, ProgressState.Replicate);
  assert.equal(pr.next, 2);
  assert.equal(pr.inflights.count(), 0);
});

test('progress - becomeSnapshot records the pending snapshot and pauses', () => {
  const pr = progress(1, 5);
  pr.becomeSnapshot(10);
  assert.equal(pr.state, ProgressState.Snapshot);
  assert.equal(pr.match, 1);
  assert.equal(pr.pendingSnapshot, 10);
  assert.equal(pr.isPaused(), true);
  assert.throws(() => pr.updateOnEntriesSend(1, 1, 5), InvariantError);
});

test('progress - sending in replicate moves next and fills the window until paused', () => {
  const pr = progress(0, 1, { state: ProgressState.Replicate, capacity: 2 });
  pr.updateOnEntriesSend(3, 30, 1);
  assert.equal(pr.next, 4);
  assert.deepEqual(pr.inflights.indexes(), [3]);
  assert.equal(pr.isPaused(), false);
  // An empty append (heartbeat-like probe of commit) adds nothing to the window.
  pr.updateOnEntriesSend(0, 0, 4);
  assert.equal(pr.next, 4);
  pr.updateOnEntriesSend(2, 20, 4);
  assert.equal(pr.next, 6);
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.msgAppFlowPaused, true);
  assert.equal(pr.maybeUpdate(3), true);
  pr.inflights.freeLE(3);
  assert.equal(pr.isPaused(), false);
});

test('progress - a probe with entries pauses until the follower answers', () => {
  const pr = progress(0, 5);
  assert.equal(pr.isPaused(), false);
  pr.updateOnEntriesSend(0, 0, 5);
  assert.equal(pr.isPaused(), false);
  pr.updateOnEntriesSend(2, 10, 5);
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.next, 5, 'probe state does not move next optimistically');
  assert.equal(pr.inflights.count(), 0);
  pr.maybeUpdate(6);
  assert.equal(pr.isPaused(), false);
});

test('progress - maybeUpdate raises match and next, and ignores stale acks', () => {
  const pr = progress(3, 5);
  assert.equal(pr.maybeUpdate(2), false);
  assert.deepEqual([pr.match, pr.next], [3, 5]);
  assert.equal(pr.maybeUpdate(3), false);
  assert.deepEqual([pr.match, pr.next], [3, 5]);
  assert.equal(pr.maybeUpdate(4), true);
  assert.deepEqual([pr.match, pr.next], [4, 5]);
  assert.equal(pr.maybeUpdate(7), true);
  assert.deepEqual([pr.match, pr.next], [7, 8]);
});

test('progress - maybeDecrTo backs off on genuine rejections only', () => {
  // [state, match, next, rejected, hint, want ok, want next]
  const cases: Array<[ProgressState, number, number, number, number, boolean, number]> = [
    // Replicate: stale when at or below match; otherwise back to match+1.
    [ProgressState.Replicate, 5, 10, 5, 5, false, 10],
    [ProgressState.Replicate, 5, 10, 4, 4, false, 10],
    [ProgressState.Replicate, 5, 10, 9, 9, true, 6],
    // Probe: only a rejection of next-1 counts.
    [ProgressState.Probe, 0, 1, 0, 0, true, 1],
    [ProgressState.Probe, 0, 10, 5, 5, false, 10],
    [ProgressState.Probe, 0, 10, 9, 9, true, 9],
    [ProgressState.Probe, 0, 2, 1, 1, true, 1],
    [ProgressState.Probe, 0, 10, 9, 2, true, 3],
    [ProgressState.Probe, 0, 10, 9, 0, true, 1],
    // A hint below match never takes next below match+1.
    [ProgressState.Probe, 5, 10, 9, 1, true, 6],
  ];
  for (const [state, match, next, rejected, hint, wantOk, wantNext] of cases) {
    const pr = progress(match, next, { state });
    pr.msgAppFlowPaused = true;
    const what = `${state} match=${match} next=${next} rejected=${rejected} hint=${hint}`;
    assert.equal(pr.maybeDecrTo(rejected, hint), wantOk, what);
    assert.equal(pr.next, wantNext, what);
    assert.equal(pr.match, match, what);
    if (wantOk && state === ProgressState.Probe) assert.equal(pr.msgAppFlowPaused, false, what);
  }
});

test('progress - isPaused depends on the state', () => {
  const probe = progress(0, 1);
  assert.equal(probe.isPaused(), false);
  probe.msgAppFlowPaused = true;
  assert.equal(probe.isPaused(), true);
  const replicate = progress(0, 1, { state: ProgressState.Replicate, capacity: 1 });
  assert.equal(replicate.isPaused(), false);
  replicate.updateOnEntriesSend(1, 1, 1);
  assert.equal(replicate.isPaused(), true);
  assert.equal(progress(0, 1, { state: ProgressState.Snapshot }).isPaused(), true);
});

test('progress - describe prints a stable one-line summary', () => {
  const pr = progress(5, 6, { state: ProgressState.Replicate, capacity: 2 });
  assert.equal(pr.describe(), 'StateReplicate match=5 next=6');
  pr.updateOnEntriesSend(1, 1, 6);
  assert.equal(pr.describe(), 'StateReplicate match=5 next=7 inflight=1');
  pr.updateOnEntriesSend(1, 1, 7);
  assert.equal(pr.describe(), 'StateReplicate match=5 next=8 paused inflight=2[full]');
  pr.isLearner = true;
  pr.recentActive = false;
  pr.becomeSnapshot(20);
  const want = 'StateSnapshot match=5 next=8 learner paused pendingSnap=20 inactive';
  assert.equal(pr.describe(), want);
});

test('progress - clone copies every field and shares no state', () => {
  const pr = progress(2, 3, { state: ProgressState.Replicate });
  pr.updateOnEntriesSend(2, 5, 3);
  const copy = pr.clone();
  assert.equal(copy.describe(), pr.describe());
  assert.equal(copy.msgAppFlowPaused, pr.msgAppFlowPaused);
  copy.maybeUpdate(4);
  copy.inflights.freeLE(4);
  assert.equal(pr.match, 2);
  assert.equal(pr.inflights.count(), 1);
});

test('progress - a progress must start with match below next', () => {
  const inflights = new Inflights(1, 0);
  assert.throws(
    () => new Progress({ match: 5, next: 5, inflights, isLearner: false }),
    InvariantError,
  );
  const fresh = new Progress({ match: 0, next: 1, inflights, isLearner: false });
  assert.equal(fresh.recentActive, false);
});

// ---- ProgressTracker ----

/** A tracker with the configuration that `steps` (simple or joint changes) build. */
function trackerWith(simple: string, joint?: string): ProgressTracker {
  const tracker = new ProgressTracker(4, 0);
  for (const change of confChangesFromString(simple)) {
    const result = new Changer(tracker, 1).simple([change]);
    tracker.config = result.config;
    tracker.progress = result.progress;
  }
  if (joint !== undefined) {
    const result = new Changer(tracker, 1).enterJoint(true, confChangesFromString(joint));
    tracker.config = result.config;
    tracker.progress = result.progress;
  }
  return tracker;
}

function setMatches(tracker: ProgressTracker, matches: Record<number, number>): void {
  for (const [id, match] of Object.entries(matches)) {
    tracker.progress.get(BigInt(id))!.maybeUpdate(match);
  }
}

test('tracker - committed is the quorum match of the voters, joint halves included', () => {
  const tracker = trackerWith('v1 v2 v3 l4');
  setMatches(tracker, { 1: 10, 2: 7, 3: 3, 4: 100 });
  assert.equal(tracker.committed(), 7, 'learners do not count');
  const joint = trackerWith('v1 v2 v3', 'r1 v4 v5');
  setMatches(joint, { 1: 10, 2: 9, 3: 8, 4: 2, 5: 1 });
  // Incoming (2 3 4 5) commits 2; outgoing (1 2 3) commits 9.
  assert.equal(joint.committed(), 2);
});

test('tracker - confState, voterNodes and learnerNodes are sorted', () => {
  const tracker = trackerWith('v10 v2 v3 l7', 'l10 v1');
  assert.deepEqual(tracker.confState(), {
    voters: [1n, 2n, 3n],
    learners: [7n],
    votersOutgoing: [2n, 3n, 10n],
    learnersNext: [10n],
    autoLeave: true,
  });
  assert.deepEqual(tracker.voterNodes(), [1n, 2n, 3n, 10n]);
  assert.deepEqual(tracker.learnerNodes(), [7n, 10n]);
  assert.equal(tracker.isVoter(10n), true);
  assert.equal(tracker.isVoter(7n), false);
  assert.equal(tracker.isSingleton(), false);
  assert.equal(trackerWith('v1 l2').isSingleton(), true);
  assert.equal(trackerWith('v1', 'v2 r1').isSingleton(), false);
});

test('tracker - visit goes through every progress in ascending id order', () => {
  const tracker = trackerWith('v30 v4 v100 l2');
  const seen: NodeId[] = [];
  tracker.visit((id) => seen.push(id));
  assert.deepEqual(seen, [2n, 4n, 30n, 100n]);
  // Edits of the map in place are noticed too.
  tracker.progress.delete(4n);
  tracker.progress.set(5n, tracker.progress.get(2n)!.clone());
  seen.length = 0;
  tracker.visit((id) => seen.push(id));
  assert.deepEqual(seen, [2n, 5n, 30n, 100n]);
});

test('tracker - quorumActive needs recently active voters in both halves', () => {
  const tracker = trackerWith('v1 v2 v3 l4', 'r3 v5');
  for (const pr of tracker.progress.values()) pr.recentActive = false;
  const activate = (...xs: number[]): void => {
    for (const x of xs) tracker.progress.get(BigInt(x))!.recentActive = true;
  };
  activate(1, 4);
  assert.equal(tracker.quorumActive(), false);
  activate(5);
  assert.equal(tracker.quorumActive(), false, 'the outgoing half (1 2 3) has only 1');
  activate(2);
  assert.equal(tracker.quorumActive(), true);
});

test('tracker - votes count once per node and decide by the joint quorum', () => {
  const tracker = trackerWith('v1 v2 v3', 'v4');
  tracker.recordVote(1n, true);
  tracker.recordVote(1n, false);
  tracker.recordVote(9n, true);
  assert.deepEqual(tracker.tallyVotes(), { granted: 1, rejected: 0, result: 'pending' });
  tracker.recordVote(2n, true);
  assert.deepEqual(tracker.tallyVotes(), { granted: 2, rejected: 0, result: 'pending' });
  tracker.recordVote(3n, false);
  tracker.recordVote(4n, true);
  assert.deepEqual(tracker.tallyVotes(), { granted: 3, rejected: 1, result: 'won' });
  tracker.resetVotes();
  tracker.recordVote(3n, false);
  tracker.recordVote(4n, false);
  assert.deepEqual(tracker.tallyVotes(), { granted: 0, rejected: 2, result: 'lost' });
});
