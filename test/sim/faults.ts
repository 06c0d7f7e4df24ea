// The fault scheduler of a seeded run: during the safety phase it strikes every ~faultEveryTicks
// with one of the profile's faults (partitions of every shape, crashes, crashes at failpoints,
// membership changes, leadership transfers) and undoes network faults and crashes after a while.
// `calm()` ends the faults: heal, restart everyone, disarm failpoints.
import type { NodeId } from '../../src/raft/messages.ts';
import type { SeededRng } from '../../src/util/rng.ts';
import type { Simulator } from './cluster.ts';
import type { CrashPoint } from './member.ts';
import { addMember, promoteLearner, removeMember, replaceJoint } from './membership.ts';
import { FaultKind } from './profile.ts';

const crashPoints: readonly CrashPoint[] = ['raftBeforeSave', 'raftAfterSave', 'raftBeforeApply'];
/** Voter counts the membership faults keep within. */
const VOTERS_MIN = 3;
const VOTERS_MAX = 7;
/** Members ever created, at most (ids are never reused). */
const MEMBERS_MAX = 16;

/** Injects the seed's faults into a simulator, one decision per tick. */
export class FaultScheduler {
  readonly #sim: Simulator;
  readonly #rng: SeededRng;
  #healAt = -1;

  constructor(sim: Simulator) {
    this.#sim = sim;
    this.#rng = sim.rng;
  }

  /** One tick of the safety phase. */
  tick(): void {
    const sim = this.#sim;
    const p = sim.profile;
    if (this.#healAt >= 0 && sim.tick() >= this.#healAt) {
      this.#healAt = -1;
      sim.heal();
    }
    if (sim.tick() % 5 === 0) sim.leaveJointIfNeeded();
    if (p.faults.length === 0 || this.#rng.int(p.faultEveryTicks) !== 0) return;
    this.#strike(this.#rng.pick(p.faults));
  }

  /** Ends the faults: heal the network, restart crashed members, disarm failpoints. */
  calm(): void {
    const sim = this.#sim;
    this.#healAt = -1;
    sim.heal();
    sim.restartAt.clear();
    for (const m of sim.members()) {
      m.armedCrash = undefined;
      if (!m.alive && sim.status(m.id) !== 'retired') sim.restart(m.id);
    }
  }

  #duration(): number {
    const p = this.#sim.profile;
    return p.faultTicksMin + this.#rng.int(p.faultTicksMax - p.faultTicksMin + 1);
  }

  #strike(kind: FaultKind): void {
    const sim = this.#sim;
    const rng = this.#rng;
    const running = sim.running().map((m) => m.id);
    const leader = sim.leader();
    switch (kind) {
      case FaultKind.Partition: {
        if (running.length < 2) return;
        const shuffled = shuffle(rng, running);
        const cut = 1 + rng.int(shuffled.length - 1);
        this.#netFault(kind, () => sim.partition(shuffled.slice(0, cut), shuffled.slice(cut)));
        return;
      }
      case FaultKind.OneWay: {
        if (running.length < 2) return;
        const [a, b] = shuffle(rng, running);
        this.#netFault(kind, () => sim.cutOneWay(a!, b!));
        return;
      }
      case FaultKind.IsolateLeader:
        if (leader !== undefined) this.#netFault(kind, () => sim.isolate(leader.id));
        return;
      case FaultKind.Bridge: {
        if (running.length < 3) return;
        const [bridge, ...rest] = shuffle(rng, running);
        const cut = 1 + rng.int(rest.length - 1);
        this.#netFault(kind, () => sim.bridge(rest.slice(0, cut), bridge!, rest.slice(cut)));
        return;
      }
      case FaultKind.Crash: {
        const down = sim.members().filter((m) => !m.alive && sim.status(m.id) !== 'retired').length;
        // Mostly a minority at a time; now and then a majority (safety must hold regardless).
        if (down >= Math.floor(running.length / 2) && rng.int(4) !== 0) return;
        const victim = leader !== undefined && rng.int(2) === 0 ? leader.id : pick(rng, running);
        if (victim === undefined) return;
        sim.crash(victim);
        sim.restartAt.set(victim, sim.tick() + this.#duration());
        return;
      }
      case FaultKind.CrashAtFailpoint: {
        const victim = leader !== undefined && rng.int(2) === 0 ? leader.id : pick(rng, running);
        if (victim !== undefined) sim.armCrash(victim, rng.pick(crashPoints));
        return;
      }
      case FaultKind.Transfer: {
        const voters = leader?.confState.voters.filter((id) => id !== leader.id) ?? [];
        if (voters.length > 0) sim.transferLeadership(rng.pick(voters));
        return;
      }
      default:
        this.#membership(kind);
    }
  }

  #membership(kind: FaultKind): void {
    const sim = this.#sim;
    const rng = this.#rng;
    const leader = sim.leader();
    if (leader === undefined || sim.members().length >= MEMBERS_MAX) return;
    const cs = leader.confState;
    if (cs.votersOutgoing.length > 0) return;
    const voters = cs.voters.length;
    switch (kind) {
      case FaultKind.AddMember:
        if (voters < VOTERS_MAX) addMember(sim, false);
        return;
      case FaultKind.AddLearner:
        if (cs.learners.length < 2) addMember(sim, true);
        return;
      case FaultKind.PromoteLearner:
        if (cs.learners.length > 0 && voters < VOTERS_MAX) promoteLearner(sim, rng.pick(cs.learners));
        return;
      case FaultKind.RemoveMember: {
        const candidates: NodeId[] = voters > VOTERS_MIN ? [...cs.voters, ...cs.learners] : [...cs.learners];
        if (candidates.length > 0) removeMember(sim, rng.pick(candidates));
        return;
      }
      case FaultKind.JointChange:
        if (voters > 0) replaceJoint(sim, rng.pick(cs.voters), rng.int(2) === 0);
        return;
      default:
        return;
    }
  }

  #netFault(kind: FaultKind, apply: () => void): void {
    apply();
    this.#sim.counts[kind]++;
    this.#healAt = Math.max(this.#healAt, this.#sim.tick() + this.#duration());
  }
}

function shuffle<T>(rng: SeededRng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function pick<T>(rng: SeededRng, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : rng.pick(items);
}
