// Targeted scenarios on the simulator, for what random search rarely hits on purpose: a
// partitioned minority rejoining, a leader crashing mid-replication, a membership change during a
// partition, a leadership transfer under message loss. Every step still runs all the checkers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StateRole } from '../../src/raft/ready.ts';
import { Violation } from './checkers/violation.ts';
import { Simulator } from './cluster.ts';
import { addMember, removeMember } from './membership.ts';
import { calmNet } from './net.ts';
import type { Profile } from './profile.ts';
import { checkHistory, settle } from './run.ts';

/** A simulator without random faults: the test decides what happens. */
function quietSim(members: number, profile: Partial<Profile> = {}): Simulator {
  return new Simulator({
    seed: 11,
    members,
    profile: {
      faults: [],
      net: calmNet,
      electionTicks: 10,
      heartbeatTicks: 2,
      preVote: true,
      checkQuorum: true,
      snapshotEvery: 10,
      compactKeep: 2,
      clients: 3,
      keys: 2,
      clientTimeoutTicks: 40,
      ...profile,
    },
  });
}

/** Runs the scenario; a violation fails the test with its trace. */
function scenario(sim: Simulator, body: () => void): void {
  try {
    body();
    settle(sim, 100);
    assert.equal(checkHistory(sim), 'ok');
  } catch (e) {
    if (e instanceof Violation) assert.fail(`${e.message}\nat tick ${sim.tick()}\n${sim.trace.format(60)}`);
    throw e;
  }
}

function runUntil(sim: Simulator, what: string, ticksMax: number, done: () => boolean): void {
  for (let i = 0; i < ticksMax; i++) {
    if (done()) return;
    sim.runTicks(1);
  }
  assert.ok(done(), `${what} within ${ticksMax} ticks\n${sim.trace.format(40)}`);
}

function leaderId(sim: Simulator): bigint {
  runUntil(sim, 'a leader is elected', 200, () => sim.leader() !== undefined);
  return sim.leader()!.id;
}

const others = (sim: Simulator, ...not: bigint[]): bigint[] =>
  sim.members().map((m) => m.id).filter((id) => !not.includes(id));

test('sim - a partitioned minority with the old leader rejoins and catches up', () => {
  const sim = quietSim(5);
  scenario(sim, () => {
    const old = leaderId(sim);
    const oldTerm = sim.member(old)!.hardState.term;
    const buddy = others(sim, old)[0]!;
    sim.partition([old, buddy], others(sim, old, buddy));
    runUntil(sim, 'the majority elects a new leader', 200, () => (sim.leader()?.hardState.term ?? 0) > oldTerm);
    const acked = sim.checker.ackCount;
    sim.runTicks(100);
    assert.ok(sim.checker.ackCount > acked, 'the majority keeps acknowledging writes');
    assert.notEqual(sim.member(old)!.role, StateRole.Leader, 'checkQuorum makes the old leader step down');
    sim.heal();
    runUntil(sim, 'the old leader learns the new term', 100, () => sim.member(old)!.hardState.term > oldTerm);
  });
});

test('sim - a leader crashing mid-replication loses only unacknowledged writes', () => {
  const sim = quietSim(3, { snapshotEvery: 0 });
  scenario(sim, () => {
    const old = leaderId(sim);
    sim.runTicks(30);
    // The next Ready persists the leader's new entries and then dies before acknowledging.
    sim.armCrash(old, 'raftAfterSave');
    runUntil(sim, 'the leader crashes at the failpoint', 50, () => !sim.member(old)!.alive);
    runUntil(sim, 'another member takes over', 200, () => sim.leader() !== undefined && sim.leader()!.id !== old);
    sim.runTicks(50);
    sim.restart(old);
    runUntil(sim, 'the old leader catches up', 200, () => sim.member(old)!.applied >= sim.leader()!.hardState.commit);
  });
});

test('sim - a membership change during a partition completes after healing', () => {
  const sim = quietSim(5);
  scenario(sim, () => {
    const leader = leaderId(sim);
    const cut = others(sim, leader)[0]!;
    sim.isolate(cut);
    sim.runTicks(20);
    const added = addMember(sim, false);
    assert.ok(added !== undefined, 'the leader accepts the addition');
    runUntil(sim, 'the new member joins', 300, () => sim.status(added) === 'member');
    runUntil(sim, 'the leader accepts the removal', 300, () => removeMember(sim, cut));
    sim.heal();
    runUntil(sim, 'the isolated member is removed', 300, () => sim.status(cut) === 'retired');
    runUntil(sim, 'the new member catches up', 300, () =>
      sim.member(added)!.applied >= (sim.leader()?.hardState.commit ?? Infinity));
  });
});

test('sim - a leadership transfer under message loss ends with the target leading', () => {
  const sim = quietSim(5, { net: { ...calmNet, lossRate: 0.2 } });
  scenario(sim, () => {
    const from = leaderId(sim);
    const to = others(sim, from)[1]!;
    // A lost TimeoutNow aborts the transfer after an election timeout: ask again until it lands.
    runUntil(sim, 'the target leads', 600, () => {
      if (sim.leader()?.id === to) return true;
      if (sim.tick() % 30 === 0) sim.transferLeadership(to);
      return false;
    });
    sim.net.configure(calmNet);
  });
});

test('sim - a bridge member keeps a split cluster safe', () => {
  const sim = quietSim(5, { preVote: false });
  scenario(sim, () => {
    leaderId(sim);
    sim.bridge([1, 2], 3, [4, 5]);
    sim.runTicks(300);
    sim.heal();
  });
});
