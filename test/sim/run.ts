// One seeded run end to end: a safety phase under the profile's faults, then a liveness phase
// (heal everything, restart the crashed, expect a leader and a committed write within a bound,
// then convergence with clients paused), then the final checks (acknowledged writes kept,
// linearizable history). Any violation comes back stamped with seed, tick and trace.
import { InvariantError } from '../../src/util/assert.ts';
import { type CheckResult, checkOperations } from './checkers/linearizability.ts';
import { kvModel } from './checkers/kv-model.ts';
import { Violation, type ViolationKind } from './checkers/violation.ts';
import { type SimOptions, Simulator } from './cluster.ts';
import { DiskError } from './disk.ts';
import { FaultScheduler } from './faults.ts';
import { FaultKind, type Profile, describeProfile } from './profile.ts';

/** Options of a full run. */
export interface RunOptions extends SimOptions {
  /** Check the client history for linearizability (default true). */
  linearizability?: boolean;
  /** Search steps the linearizability check may take (deterministic budget). */
  linearizabilityStepsMax?: number;
}

/** A violation found by a run, ready to print. */
export interface RunViolation {
  kind: ViolationKind;
  message: string;
  tick: number;
  step: number;
  trace: string;
}

/** The outcome of one seed. */
export interface RunResult {
  seed: number;
  members: number;
  ticks: number;
  profile: Profile;
  violation?: RunViolation;
  counts: Record<FaultKind, number>;
  stats: {
    opsOk: number;
    opsUnknown: number;
    acked: number;
    committed: number;
    maxTerm: number;
    messages: number;
    linearizability: CheckResult | 'skipped';
  };
}

/** The seed as it is printed and accepted back (`0x1f3a`). */
export function formatSeed(seed: number): string {
  return `0x${seed.toString(16)}`;
}

/**
 * Runs one seed. Deterministic: the same options give the same result. Runs untraced unless a
 * trace capacity is given; a failing seed is run again with a trace for the report.
 */
export function runSeed(opts: RunOptions): RunResult {
  if (opts.traceCapacity !== undefined) return runOnce(opts);
  const fast = runOnce({ ...opts, traceCapacity: 0 });
  if (fast.violation === undefined) return fast;
  const traced = runOnce({ ...opts, traceCapacity: 200 });
  if (traced.violation?.kind !== fast.violation.kind || traced.violation.tick !== fast.violation.tick) {
    traced.violation = {
      ...fast.violation,
      trace: `(NB: the traced re-run diverged: ${traced.violation?.message ?? 'no violation'})`,
    };
  }
  return traced;
}

function runOnce(opts: RunOptions): RunResult {
  const sim = new Simulator(opts);
  let violation: RunViolation | undefined;
  let linearizability: CheckResult | 'skipped' = 'skipped';
  try {
    runPhases(sim);
    if (opts.linearizability !== false) linearizability = checkHistory(sim, opts.linearizabilityStepsMax);
  } catch (e) {
    const v = toViolation(e);
    violation = { kind: v.kind, message: v.message, tick: sim.tick(), step: sim.step, trace: sim.trace.format() };
  }
  return summarize(sim, violation, linearizability);
}

/** The safety, liveness and settle phases of a run on `sim`; throws a Violation. */
export function runPhases(sim: Simulator): void {
  const p = sim.profile;
  const faults = new FaultScheduler(sim);
  sim.runTicks(p.ticks - p.livenessTicks, () => faults.tick());

  // Liveness: everything healed and restarted, a calm network; a write must commit in time.
  faults.calm();
  sim.net.configure({ ...p.net, lossRate: 0, dupRate: 0, spikeRate: 0 });
  const start = sim.tick();
  const settleTicks = Math.min(100, Math.floor(p.livenessTicks / 3));
  const deadline = start + p.livenessTicks - settleTicks;
  let probe = 0;
  let proposedAt = -1;
  while (sim.probeApplied === 0 || probe === 0) {
    if (sim.tick() >= deadline) throw livenessViolation(sim, start);
    sim.runTicks(1, () => {
      if (sim.tick() % 5 === 0) sim.leaveJointIfNeeded();
      // (Re)propose the probe when none is accepted, or the last one seems lost.
      if (probe === 0 || sim.tick() - proposedAt > p.electionTicks * 3) {
        if (sim.proposeProbe(probe + 1)) {
          probe++;
          proposedAt = sim.tick();
        }
      }
    });
  }
  const leaveJoint = (): void => {
    if (sim.tick() % 5 === 0) sim.leaveJointIfNeeded();
  };
  const rest = p.ticks - sim.tick() - settleTicks;
  if (rest > 0) sim.runTicks(rest, leaveJoint);

  settle(sim, settleTicks);
}

/**
 * Clients stop, the cluster runs `ticks` more; then every serving member must have caught up
 * with the leader's commit, and the leader must still hold every acknowledged write.
 */
export function settle(sim: Simulator, ticks: number): void {
  sim.workload.paused = true;
  sim.runTicks(ticks, () => {
    if (sim.tick() % 5 === 0) sim.leaveJointIfNeeded();
  });
  const leader = sim.leader();
  if (leader === undefined) throw new Violation('liveness', `no leader at the end of the settle phase`);
  for (const m of sim.serving()) {
    if (m.applied < leader.hardState.commit) {
      const lag = sim.serving().map((s) => `${s.id}:${s.applied}`).join(' ');
      throw new Violation('liveness', `member ${m.id} applied only ${m.applied} of leader ${leader.id}'s ` +
        `commit ${leader.hardState.commit} after ${ticks} calm ticks (applied: ${lag})`);
    }
  }
  sim.checker.checkAcksKept(leader.id, leader.storage);
}

function livenessViolation(sim: Simulator, start: number): Violation {
  const states = sim.members()
    .filter((m) => sim.status(m.id) !== 'retired')
    .map((m) => `${m.id}:${m.alive ? m.role : 'down'}@t${m.hardState.term}/c${m.hardState.commit}`)
    .join(' ');
  const leader = sim.leader();
  return new Violation('liveness',
    `${leader === undefined ? 'no leader' : `leader ${leader.id} but no committed probe write`} ` +
    `${sim.tick() - start} ticks after healing (members ${states})`);
}

/** Checks the clients' history for linearizability; throws a Violation when it is not. */
export function checkHistory(sim: Simulator, stepsMax = 5_000_000): CheckResult {
  const report = checkOperations(kvModel, sim.workload.history(), { stepsMax });
  if (report.result === 'illegal') throw new Violation('linearizability', report.describe());
  return report.result;
}

function toViolation(e: unknown): Violation {
  if (e instanceof Violation) return e;
  if (e instanceof InvariantError) return new Violation('core-invariant', stackOf(e));
  if (e instanceof DiskError) return new Violation('disk', stackOf(e));
  return new Violation('core-crash', e instanceof Error ? stackOf(e) : String(e));
}

function stackOf(e: Error): string {
  const lines = (e.stack ?? e.message).split('\n');
  return lines.slice(0, 8).join('\n');
}

function summarize(sim: Simulator, violation: RunViolation | undefined, lin: CheckResult | 'skipped'): RunResult {
  const counts = { ...sim.counts };
  counts[FaultKind.Loss] = sim.net.stats.lost;
  counts[FaultKind.Duplicate] = sim.net.stats.duplicated;
  counts[FaultKind.Reorder] = sim.net.stats.reordered;
  let maxTerm = 0;
  for (const m of sim.members()) {
    counts[FaultKind.Snapshot] += m.snapshotsTaken;
    counts[FaultKind.SnapshotInstall] += m.snapshotsInstalled;
    maxTerm = Math.max(maxTerm, m.hardState.term);
  }
  const w = sim.workload.stats;
  return {
    seed: sim.seed,
    members: sim.profile.members,
    ticks: sim.profile.ticks,
    profile: sim.profile,
    ...(violation === undefined ? {} : { violation }),
    counts,
    stats: {
      opsOk: w.ok,
      opsUnknown: w.unknown,
      acked: sim.checker.ackCount,
      committed: sim.checker.committedUpTo,
      maxTerm,
      messages: sim.net.stats.sent,
      linearizability: lin,
    },
  };
}

/** A failing run as printed: seed, profile, what broke where, the trace and how to replay it. */
export function formatFailure(r: RunResult): string {
  const v = r.violation;
  if (v === undefined) return `seed ${formatSeed(r.seed)}: ok`;
  return [
    `seed ${formatSeed(r.seed)} FAILED: ${describeProfile(r.profile)}`,
    `violation at tick ${v.tick}.${v.step}: ${v.message}`,
    `last events:`,
    v.trace,
    `replay: npm run sim -- --seed ${formatSeed(r.seed)} --members ${r.members} --ticks ${r.ticks} --verbose`,
  ].join('\n');
}
