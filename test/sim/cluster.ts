// The Simulator: owns time (ticks of STEPS_PER_TICK steps), the network, the members and the
// clients of one run, and routes every message and Ready through the checkers. Scenario helpers
// (partition, crash, restart, heal, runTicks, leader, membership changes) drive it from tests; the
// fault scheduler and `runSeed` drive it from a seed. Nothing here reads a clock or Math.random.
import type { RaftFaults } from '../../src/raft/config.ts';
import { ReadOnlyOption } from '../../src/raft/config.ts';
import {
  type ConfChangeSingle,
  type ConfChangeTransition,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  MessageType,
} from '../../src/raft/messages.ts';
import type { ReadState } from '../../src/raft/ready.ts';
import { SeededRng } from '../../src/util/rng.ts';
import { SafetyChecker } from './checkers/safety.ts';
import type { ViolationKind } from './checkers/violation.ts';
import { type NodeFactory, rawNodeFactory } from './core.ts';
import { describeConfState, describeMessage } from './describe.ts';
import { type KvApplied, type KvCommand, encodeCommand } from './kv.ts';
import { type CrashPoint, type MemberHooks, SimMember } from './member.ts';
import { type Arrival, Network } from './net.ts';
import { FaultKind, type Profile, chooseProfile } from './profile.ts';
import { type MemberStatus, Roster } from './roster.ts';
import { Trace } from './trace.ts';
import { Workload, type WorkloadHost } from './workload.ts';

/** Steps per tick: message delays are counted in steps, so several exchanges fit in one tick. */
export const STEPS_PER_TICK = 10;

/** A member id as tests like to write it. */
export type Id = number | bigint;

/** How a simulation is set up. Everything not given is chosen by the seed. */
export interface SimOptions {
  seed: number;
  /** Initial members (default: 3, 5 or 7 by seed). */
  members?: number;
  /** Ticks of a full run (default 2,000). */
  ticks?: number;
  /** Overrides of the seed's profile (e.g. a calm network for a targeted scenario). */
  profile?: Partial<Profile>;
  /** Deliberately broken core behaviour, to prove the checkers catch it. */
  raftFaults?: RaftFaults;
  /** Test-only: member `member` skips the effect of applying entry `index`. */
  skipApply?: { member: Id; index: number };
  factory?: NodeFactory;
  /** Test-only: clients read a member's local state without ReadIndex (must be caught). */
  localReads?: boolean;
  /** Checks turned off (to show that another one catches the same bug); 'core-invariant' skips
   * the core's checkInvariants(). */
  disabledChecks?: ViolationKind[];
  /** Events kept for a violation report (default 200; 0 turns tracing off). */
  traceCapacity?: number;
}

/** The client id of the simulator's own liveness probe writes (clients are numbered from 1). */
const PROBE_CLIENT = 0;

/** The simulated cluster of one run. */
export class Simulator implements MemberHooks, WorkloadHost {
  readonly seed: number;
  readonly profile: Profile;
  readonly net: Network;
  readonly checker: SafetyChecker;
  readonly trace: Trace;
  readonly workload: Workload;
  /** How often each kind of fault happened. */
  readonly counts = Object.fromEntries(Object.values(FaultKind).map((k) => [k, 0])) as Record<FaultKind, number>;
  /** Restarts scheduled by the fault scheduler: member → tick. */
  readonly restartAt = new Map<NodeId, number>();
  /** Decisions of the simulator itself (fault choices, membership). */
  readonly rng: SeededRng;
  readonly #memberRng: SeededRng;
  readonly #roster = new Roster();
  readonly #toRetire: NodeId[] = [];
  readonly #opts: SimOptions;
  readonly #tracing: boolean;
  /** The highest probe write applied by any member. */
  probeApplied = 0;
  #tick = 0;
  #step = 0;
  #stamp = 0;
  #nextId: bigint;

  constructor(opts: SimOptions) {
    this.#opts = opts;
    this.seed = opts.seed;
    this.checker = new SafetyChecker(opts.disabledChecks);
    const master = new SeededRng(opts.seed);
    const members = opts.members ?? [3, 5, 7][opts.seed % 3]!;
    this.profile = { ...chooseProfile(master.fork(), { members, ticks: opts.ticks ?? 2000 }), ...opts.profile };
    this.rng = master.fork();
    this.#memberRng = master.fork();
    this.net = new Network(master.fork(), this.profile.net);
    this.trace = new Trace(opts.traceCapacity ?? 200);
    this.#tracing = this.trace.capacity > 0;
    const p = this.profile;
    this.workload = new Workload(
      master.fork(),
      { clients: p.clients, keys: p.keys, timeoutTicks: p.clientTimeoutTicks, thinkTicksMax: 3, localReads: opts.localReads === true },
      this,
    );
    const ids = Array.from({ length: p.members }, (_, i) => BigInt(i + 1));
    this.#nextId = BigInt(p.members + 1);
    for (const id of ids) {
      const m = this.#create(id, 'member', 1);
      m.bootstrap(ids);
      m.start();
    }
  }

  // ---- time ----

  /** The current tick. */
  tick(): number {
    return this.#tick;
  }

  /** The current step within the tick. */
  get step(): number {
    return this.#step;
  }

  /** A strictly increasing timestamp (tick, then step, then a counter). */
  stamp(): number {
    this.#stamp = Math.max(this.#stamp + 1, (this.#tick * STEPS_PER_TICK + this.#step) * 1000);
    return this.#stamp;
  }

  /** Runs `n` ticks; `beforeTick` runs first in each (the fault scheduler, the liveness probe). */
  runTicks(n: number, beforeTick?: () => void): void {
    for (let i = 0; i < n; i++) this.#runTick(beforeTick);
  }

  #runTick(beforeTick?: () => void): void {
    this.#tick++;
    this.#step = 0;
    for (const [id, at] of this.restartAt) {
      if (at <= this.#tick) {
        this.restartAt.delete(id);
        this.restart(id);
      }
    }
    beforeTick?.();
    for (const m of this.#roster.all()) {
      if (!m.alive) continue;
      m.node!.tick();
      this.#afterInput(m);
    }
    this.workload.tick();
    const base = this.#tick * STEPS_PER_TICK;
    for (let s = 0; s < STEPS_PER_TICK; s++) {
      this.#step = s;
      for (let a = this.net.nextDue(base + s); a !== undefined; a = this.net.nextDue(base + s)) {
        this.#deliver(a);
      }
    }
  }

  #deliver(a: Arrival): void {
    const msg = a.msg;
    const to = this.#roster.get(msg.to);
    const from = this.#roster.get(msg.from);
    let drop: string | undefined;
    if (a.lost) drop = 'lost';
    else if (to === undefined || !to.alive || this.#roster.isRetired(msg.to)) drop = 'down';
    else if (this.net.isBlocked(msg.from, msg.to)) {
      drop = 'cut';
      this.net.stats.cut++;
    }
    if (drop !== undefined) {
      if (this.#tracing) this.#event('drop', () => `${describeMessage(msg)} (${drop})`);
      if (from === undefined || !from.alive) return;
      // The transport tells the sender about failed snapshots and broken links (as etcd's does).
      if (msg.type === MessageType.Snap) from.node!.reportSnapshot(msg.to, false);
      else if (drop !== 'lost' && msg.type === MessageType.App) from.node!.reportUnreachable(msg.to);
      else return;
      this.#afterInput(from);
      return;
    }
    if (this.#tracing) this.#event('deliver', () => describeMessage(msg));
    to!.node!.step(msg);
    this.#afterInput(to!);
    if (msg.type === MessageType.Snap && from !== undefined && from.alive) {
      from.node!.reportSnapshot(msg.to, true);
      this.#afterInput(from);
    }
  }

  /** Runs a member's Ready loop after an input, then settles what it caused. */
  #afterInput(m: SimMember): void {
    m.handleReady();
    this.workload.afterReady(m);
    while (this.#toRetire.length > 0) this.#retire(this.#toRetire.pop()!);
  }

  // ---- members ----

  /** A member by id. */
  member(id: Id): SimMember | undefined {
    return this.#roster.get(BigInt(id));
  }

  /** Every member ever created (retired ones included). */
  members(): SimMember[] {
    return this.#roster.all();
  }

  /** Running members that are part of the cluster (clients may talk to them). */
  serving(): SimMember[] {
    return this.#roster.serving();
  }

  /** Running, non-retired members. */
  running(): SimMember[] {
    return this.#roster.running();
  }

  /** The member's place in the cluster. */
  status(id: Id): MemberStatus | undefined {
    return this.#roster.status(BigInt(id));
  }

  /** The running leader with the highest term, if any. */
  leader(): SimMember | undefined {
    return this.#roster.leader();
  }

  /** Kills a member; it loses what it had not synced (or keeps a prefix of it, per profile). */
  crash(id: Id, keepUnsynced = this.profile.keepUnsyncedOnCrash): void {
    const m = this.member(id);
    if (m === undefined || !m.alive) return;
    const lost = m.crash(keepUnsynced);
    this.counts[FaultKind.Crash]++;
    if (lost > 0) this.counts[FaultKind.LostUnsynced]++;
    this.#event('crash', `${m.id} crashed, ${lost} unsynced records lost`);
    this.workload.memberDown(m.id);
  }

  /** Starts a crashed member again from its disk. */
  restart(id: Id): void {
    const m = this.member(id);
    if (m === undefined || m.alive || this.#roster.isRetired(m.id)) return;
    m.start();
    this.counts[FaultKind.Restart]++;
    this.#event('restart', () => `${m.id} restarted at term ${m.hardState.term} commit ${m.hardState.commit} applied ${m.applied}`);
  }

  /** Arms a crash at a failpoint of a member's Ready loop. */
  armCrash(id: Id, point: CrashPoint): void {
    const m = this.member(id);
    if (m?.alive === true) m.armedCrash = point;
  }

  /** Makes a member campaign now. */
  campaign(id: Id): void {
    const m = this.member(id);
    if (m?.alive !== true) return;
    m.node!.campaign();
    this.#afterInput(m);
  }

  // ---- network ----

  /** Cuts links between groups (both ways). */
  partition(...groups: Id[][]): void {
    this.net.partition(groups.map((g) => g.map((id) => BigInt(id))));
    this.#event('partition', () => groups.map((g) => `[${g.join(' ')}]`).join(' | '));
  }

  /** Cuts the link from `from` to `to` only. */
  cutOneWay(from: Id, to: Id): void {
    this.net.cutOneWay(BigInt(from), BigInt(to));
    this.#event('partition', `${from} -/-> ${to}`);
  }

  /** Cuts a member off from all others. */
  isolate(id: Id): void {
    this.net.isolate(BigInt(id), this.#roster.ids());
    this.#event('partition', `${id} isolated`);
  }

  /** `left` and `right` cannot talk; `bridge` talks to both. */
  bridge(left: Id[], bridge: Id, right: Id[]): void {
    this.net.bridge(left.map(BigInt), BigInt(bridge), right.map(BigInt));
    this.#event('partition', `bridge [${left.join(' ')}] - ${bridge} - [${right.join(' ')}]`);
  }

  /** Restores every link. */
  heal(): void {
    if (this.net.partitioned) this.counts[FaultKind.Heal]++;
    this.net.heal();
    this.#event('heal', 'all links restored');
  }

  // ---- membership and leadership ----

  /**
   * Proposes a configuration change through the leader; true when accepted. Members it adds are
   * created (empty, 'joining') at once; `kind` is counted on success.
   */
  changeMembership(transition: ConfChangeTransition, changes: ConfChangeSingle[], kind?: FaultKind): boolean {
    const leader = this.leader();
    if (leader === undefined) return false;
    const result = leader.node!.proposeConfChange({ transition, changes, context: new Uint8Array(0) });
    const what = changes.map((c) => `${c.type} ${c.nodeId}`).join(', ') || 'leave joint';
    this.#event('confchange', () => `${leader.id} proposes ${transition} [${what}]: ${result.ok ? 'ok' : result.reason}`);
    if (result.ok) {
      for (const c of changes) {
        if (c.type !== 'RemoveNode' && !this.#roster.has(c.nodeId)) this.#create(c.nodeId, 'joining').start();
      }
      if (kind !== undefined) this.counts[kind]++;
    }
    this.#afterInput(leader);
    return result.ok;
  }

  /** An id no member has had. */
  freshId(): NodeId {
    return this.#nextId++;
  }

  /** Leaves an explicit joint configuration (an empty change) when the leader is in one. */
  leaveJointIfNeeded(): void {
    const cs = this.leader()?.confState;
    if (cs === undefined || cs.votersOutgoing.length === 0 || cs.autoLeave) return;
    this.changeMembership('auto', []);
  }

  /** Asks the leader to hand leadership to `to`. */
  transferLeadership(to: Id): boolean {
    const leader = this.leader();
    if (leader === undefined) return false;
    leader.node!.transferLeadership(BigInt(to));
    this.counts[FaultKind.Transfer]++;
    this.#event('transfer', `${leader.id} hands leadership to ${to}`);
    this.#afterInput(leader);
    return true;
  }

  #create(id: NodeId, status: MemberStatus, addedAt?: number): SimMember {
    const p = this.profile;
    const skip = this.#opts.skipApply;
    const m = new SimMember({
      id,
      factory: this.#opts.factory ?? rawNodeFactory,
      raft: {
        electionTicks: p.electionTicks,
        heartbeatTicks: p.heartbeatTicks,
        msgBytesMax: p.msgBytesMax,
        inflightMsgsMax: p.inflightMsgsMax,
        checkQuorum: p.checkQuorum,
        preVote: p.preVote,
        readOnlyOption: ReadOnlyOption.Safe,
        ...(this.#opts.raftFaults === undefined ? {} : { faults: this.#opts.raftFaults }),
      },
      rng: this.#memberRng.fork(),
      hooks: this,
      snapshotEvery: p.snapshotEvery,
      compactKeep: p.compactKeep,
      checkInvariants: !(this.#opts.disabledChecks ?? []).includes('core-invariant'),
      ...(skip !== undefined && BigInt(skip.member) === id ? { skipApplyIndex: skip.index } : {}),
    });
    this.#roster.add(m, status, addedAt);
    return m;
  }

  #retire(id: NodeId): void {
    if (!this.#roster.retire(id)) return;
    this.restartAt.delete(id);
    const m = this.#roster.get(id)!;
    if (m.alive) m.crash(false);
    this.#event('retire', `${id} left the cluster and stopped`);
    this.workload.memberDown(id);
  }

  // ---- hooks from members and clients ----

  /** A member's messages go on the wire; granted votes are checked as they leave. */
  send(from: SimMember, messages: readonly Message[]): void {
    const at = this.#tick * STEPS_PER_TICK + this.#step;
    for (const m of messages) {
      if (m.type === MessageType.VoteResp && m.reject !== true) this.checker.onVoteGranted(m.from, m.to, m.term);
      this.net.send(m, at);
    }
    void from;
  }

  /** Records a trace event. */
  note(kind: string, text: string | (() => string)): void {
    this.#event(kind, text);
  }

  applied(member: SimMember, entry: Entry, cmd: KvCommand, result: KvApplied): void {
    if (cmd.c === PROBE_CLIENT) this.probeApplied = Math.max(this.probeApplied, cmd.s);
    else this.workload.applied(member, entry, cmd, result);
  }

  /**
   * Proposes probe write number `seq` (a put no client watches) on the leader; true when accepted.
   * The liveness phase uses it to see a commit happen.
   */
  proposeProbe(seq: number): boolean {
    const leader = this.leader();
    if (leader === undefined) return false;
    const cmd: KvCommand = { c: PROBE_CLIENT, s: seq, input: { op: 'put', key: 'probe', value: String(seq) } };
    const result = leader.node!.propose(encodeCommand(cmd));
    this.#afterInput(leader);
    return result.ok;
  }

  readStates(member: SimMember, states: readonly ReadState[]): void {
    this.workload.readStates(member, states);
  }

  /** A member applied a configuration: members in it join, members that left it retire. */
  confState(member: SimMember, cs: ConfState, index: number): void {
    this.#event('conf', () => `${member.id} applied ${describeConfState(cs)} at ${index}`);
    // Retired after the Ready loop that applied this: the member may be the one applying it.
    for (const id of this.#roster.applyConfState(cs, index)) this.#toRetire.push(id);
  }

  crashedAt(member: SimMember, point: CrashPoint): void {
    this.counts[FaultKind.CrashAtFailpoint]++;
    this.#event('failpoint', `${member.id} crashes at ${point}`);
    this.crash(member.id);
    this.restartAt.set(member.id, this.#tick + this.profile.faultTicksMin);
  }

  #event(kind: string, text: string | (() => string)): void {
    if (this.#tracing) this.trace.add({ tick: this.#tick, step: this.#step, kind, text });
  }
}
