// The deterministic simulation as a test: hundreds of seeds (3, 5 and 7 members, every fault kind)
// must stay safe and live; seeds that once found bugs stay green; and deliberately broken cores
// and appliers must be caught, which proves the checkers can fail.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import type { ViolationKind } from './checkers/violation.ts';
import { calmNet } from './net.ts';
import { collectSeeds } from './pool.ts';
import { FaultKind, type Profile } from './profile.ts';
import { formatSeed, runSeed } from './run.ts';
import type { SeedSummary } from './worker.ts';

const workers = Math.max(1, Math.min(2, availableParallelism()));
const range = (first: number, n: number): number[] => Array.from({ length: n }, (_, i) => first + i);

function failures(results: SeedSummary[]): string {
  return results.filter((r) => !r.ok).map((r) => r.failure).join('\n\n');
}

test('sim - 300 seeds of 3, 5 and 7 members stay safe and live under every kind of fault', async () => {
  const results = await collectSeeds(range(1, 300), { ticks: 2000 }, { workers });
  assert.equal(results.length, 300);
  assert.deepEqual(results.filter((r) => !r.ok).map((r) => formatSeed(r.seed)), [], failures(results));
  assert.deepEqual([...new Set(results.map((r) => r.members))].sort(), [3, 5, 7]);
  for (const kind of Object.values(FaultKind)) {
    const total = results.reduce((n, r) => n + r.counts[kind], 0);
    assert.ok(total > 0, `fault "${kind}" never happened in 300 seeds`);
  }
  const inconclusive = results.filter((r) => r.linearizability !== 'ok').length;
  assert.ok(inconclusive <= 3, `linearizability inconclusive on ${inconclusive} seeds`);
});

test('sim - every seed in seeds.txt passes', () => {
  const text = readFileSync(new URL('./seeds.txt', import.meta.url), 'utf8');
  const lines = text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
  assert.ok(lines.length > 0);
  for (const line of lines) {
    const [seed, members] = line.split(/\s+/).map(Number);
    const r = runSeed({ seed: seed!, ticks: 2000, ...(members === undefined ? {} : { members }) });
    assert.equal(r.violation, undefined, `seed ${line}: ${r.violation?.message}\n${r.violation?.trace}`);
  }
});

test('sim - a seed replays exactly', () => {
  const a = runSeed({ seed: 0x5eed, ticks: 600 });
  const b = runSeed({ seed: 0x5eed, ticks: 600 });
  assert.deepEqual(a.counts, b.counts);
  assert.deepEqual(a.stats, b.stats);
});

/** Elections, leader crashes and isolation at a high rate: where a broken vote or commit rule shows. */
const electionChaos: Partial<Profile> = {
  preVote: false,
  checkQuorum: false,
  faults: [FaultKind.Crash, FaultKind.IsolateLeader, FaultKind.CrashAtFailpoint, FaultKind.Partition],
  faultEveryTicks: 5,
  faultTicksMin: 5,
  faultTicksMax: 30,
  electionTicks: 5,
  heartbeatTicks: 1,
  msgBytesMax: 64,
  inflightMsgsMax: 1,
  clients: 5,
  snapshotEvery: 0,
  net: { lossRate: 0.05, dupRate: 0, delayMinSteps: 1, delayMaxSteps: 10, spikeRate: 0.02, spikeMaxSteps: 60 },
};

const safetyKinds: ViolationKind[] = [
  'one-leader-per-term',
  'vote-once-per-term',
  'log-matching',
  'leader-completeness',
  'state-machine-safety',
  'acknowledged-write-lost',
  'linearizability',
];

async function firstCaught(seeds: number[], members: number, faults: object): Promise<SeedSummary[]> {
  const results = await collectSeeds(seeds, { ticks: 1000, members, raftFaults: faults, profile: electionChaos }, { workers });
  return results.filter((r) => !r.ok);
}

test('sim - the checkers catch a core that votes twice in a term', async () => {
  const caught = await firstCaught(range(1, 10), 5, { voteTwice: true });
  assert.ok(caught.length > 0, 'no seed out of 10 reported a violation');
  for (const r of caught) assert.ok(safetyKinds.includes(r.violationKind as ViolationKind), r.failure);
});

test('sim - with the vote and core checks off, two leaders in one term are caught', () => {
  const caught = range(1, 20).map((seed) => runSeed({
    seed,
    ticks: 1000,
    members: 5,
    raftFaults: { voteTwice: true },
    profile: electionChaos,
    disabledChecks: ['vote-once-per-term', 'core-invariant'],
    traceCapacity: 0,
  })).filter((r) => r.violation !== undefined);
  assert.ok(caught.some((r) => r.violation!.kind === 'one-leader-per-term'),
    `no seed out of 20 found two leaders: ${caught.map((r) => r.violation!.kind).join(', ')}`);
});

test('sim - the checkers catch a core that commits entries of previous terms by counting', async () => {
  const caught = await firstCaught(range(1, 60), 3, { commitPreviousTerm: true });
  assert.ok(caught.length > 0, 'no seed out of 60 reported a violation');
  for (const r of caught) assert.ok(safetyKinds.includes(r.violationKind as ViolationKind), r.failure);
});

test('sim - the checkers catch a member that skips applying an entry', () => {
  const r = runSeed({
    seed: 3,
    members: 3,
    ticks: 400,
    skipApply: { member: 2, index: 12 },
    profile: { faults: [], net: calmNet, snapshotEvery: 0, clients: 3, keys: 1 },
  });
  assert.equal(r.violation?.kind, 'state-machine-safety', r.violation?.message ?? 'no violation');
});

test('sim - the linearizability check catches reads served from local state without ReadIndex', () => {
  const caught = range(1, 5).map((seed) => runSeed({
    seed,
    ticks: 1000,
    localReads: true,
    traceCapacity: 0,
    profile: { faults: [FaultKind.Partition, FaultKind.IsolateLeader, FaultKind.Crash], faultEveryTicks: 25 },
  })).filter((r) => r.violation?.kind === 'linearizability');
  assert.ok(caught.length > 0, 'no seed out of 5 found a stale read');
});
