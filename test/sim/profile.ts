// The fault profile of a run, chosen by its seed: cluster size, Raft settings, network behaviour,
// which faults strike and how often, snapshot cadence and client load. Printed first, so a
// failing seed's report says what kind of world it ran in.
import type { SeededRng } from '../../src/util/rng.ts';
import type { NetConfig } from './net.ts';

/** Every kind of fault the simulator injects (and counts, so tests can ask that each happened). */
export const FaultKind = {
  Partition: 'partition',
  OneWay: 'one-way',
  IsolateLeader: 'isolate-leader',
  Bridge: 'bridge',
  Heal: 'heal',
  Loss: 'loss',
  Duplicate: 'duplicate',
  Reorder: 'reorder',
  Crash: 'crash',
  CrashAtFailpoint: 'crash-failpoint',
  LostUnsynced: 'lost-unsynced',
  Restart: 'restart',
  Snapshot: 'snapshot',
  SnapshotInstall: 'snapshot-install',
  AddMember: 'add-member',
  RemoveMember: 'remove-member',
  AddLearner: 'add-learner',
  PromoteLearner: 'promote-learner',
  JointChange: 'joint-change',
  Transfer: 'transfer',
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/** The faults the scheduler chooses among (the others follow from these or from the network). */
export const scheduledFaults: readonly FaultKind[] = [
  FaultKind.Partition,
  FaultKind.OneWay,
  FaultKind.IsolateLeader,
  FaultKind.Bridge,
  FaultKind.Crash,
  FaultKind.CrashAtFailpoint,
  FaultKind.AddMember,
  FaultKind.RemoveMember,
  FaultKind.AddLearner,
  FaultKind.PromoteLearner,
  FaultKind.JointChange,
  FaultKind.Transfer,
];

/** Everything a seed decides about a run. */
export interface Profile {
  members: number;
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  inflightMsgsMax: number;
  msgBytesMax: number;
  net: NetConfig;
  /** The faults that may strike, and the mean ticks between two of them. */
  faults: FaultKind[];
  faultEveryTicks: number;
  /** How long a partition or a crash lasts, in ticks. */
  faultTicksMin: number;
  faultTicksMax: number;
  /** Whether a crash keeps a random prefix of the unsynced writes (else only synced ones). */
  keepUnsyncedOnCrash: boolean;
  snapshotEvery: number;
  compactKeep: number;
  clients: number;
  keys: number;
  clientTimeoutTicks: number;
  /** Ticks in all, of which the last `livenessTicks` run healed. */
  ticks: number;
  livenessTicks: number;
}

/** Picks a profile from the run's random stream; `members` and `ticks` may be fixed by the caller. */
export function chooseProfile(rng: SeededRng, opts: { members: number; ticks: number }): Profile {
  const electionTicks = 10 + rng.int(10);
  const heartbeatTicks = rng.pick([1, 2, 2, 3, 3]);
  const calm = rng.int(10) === 0; // some runs stress the code paths without network noise
  const delayMaxSteps = 2 + rng.int(calm ? 6 : 24);
  const faults = scheduledFaults.filter(() => rng.int(3) !== 0);
  if (faults.length === 0) faults.push(rng.pick(scheduledFaults));
  const livenessTicks = Math.min(400, Math.max(150, Math.floor(opts.ticks / 4)));
  return {
    members: opts.members,
    electionTicks,
    heartbeatTicks,
    preVote: rng.int(3) !== 0,
    checkQuorum: rng.int(3) !== 0,
    inflightMsgsMax: rng.pick([1, 2, 4, 16, 256]),
    msgBytesMax: rng.pick([128, 1024, 16 * 1024]),
    net: {
      lossRate: calm ? 0 : rng.pick([0, 0.01, 0.05, 0.1, 0.2]),
      dupRate: calm ? 0 : rng.pick([0, 0.01, 0.05]),
      delayMinSteps: 1,
      delayMaxSteps,
      spikeRate: calm ? 0 : rng.pick([0, 0.01, 0.05]),
      spikeMaxSteps: delayMaxSteps + 10 * (1 + rng.int(20)),
    },
    faults,
    faultEveryTicks: rng.pick([10, 25, 50, 100]),
    faultTicksMin: electionTicks,
    faultTicksMax: electionTicks * (2 + rng.int(10)),
    keepUnsyncedOnCrash: rng.int(2) === 0,
    snapshotEvery: rng.pick([0, 5, 10, 25, 100]),
    compactKeep: rng.pick([0, 1, 5, 50]),
    clients: 1 + rng.int(4),
    keys: 1 + rng.int(4),
    clientTimeoutTicks: electionTicks * (2 + rng.int(4)),
    ticks: opts.ticks,
    livenessTicks,
  };
}

/** One line describing a profile. */
export function describeProfile(p: Profile): string {
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  return (
    `${p.members} members, election ${p.electionTicks}/heartbeat ${p.heartbeatTicks} ticks, ` +
    `preVote ${p.preVote ? 'on' : 'off'}, checkQuorum ${p.checkQuorum ? 'on' : 'off'}, ` +
    `inflight ${p.inflightMsgsMax}, msg ${p.msgBytesMax} B; ` +
    `net loss ${pct(p.net.lossRate)} dup ${pct(p.net.dupRate)} delay ${p.net.delayMinSteps}-${p.net.delayMaxSteps} ` +
    `steps (spikes ${pct(p.net.spikeRate)} to ${p.net.spikeMaxSteps}); ` +
    `faults every ~${p.faultEveryTicks} ticks lasting ${p.faultTicksMin}-${p.faultTicksMax}: ` +
    `${p.faults.join(' ')}; crash ${p.keepUnsyncedOnCrash ? 'keeps a prefix of' : 'loses'} unsynced; ` +
    `snapshot every ${p.snapshotEvery || 'never'} keep ${p.compactKeep}; ` +
    `${p.clients} clients on ${p.keys} keys (timeout ${p.clientTimeoutTicks}); ` +
    `${p.ticks} ticks, last ${p.livenessTicks} healed`
  );
}
