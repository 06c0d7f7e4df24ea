// A worker thread of the simulation CLI: runs the seeds it is sent and answers with one compact
// summary per seed (the failure already formatted), so the CLI can use every core.
import { parentPort } from 'node:worker_threads';
import type { RaftFaults } from '../../src/raft/config.ts';
import { formatFailure, runSeed } from './run.ts';
import { type FaultKind, type Profile, describeProfile } from './profile.ts';

/** A batch of seeds to run. */
export interface WorkRequest {
  seeds: number[];
  members?: number;
  ticks: number;
  raftFaults?: RaftFaults;
  /** Overrides of the seeds' profiles. */
  profile?: Partial<Profile>;
}

/** The outcome of one seed, as sent back to the CLI. */
export interface SeedSummary {
  seed: number;
  ok: boolean;
  failure?: string;
  violationKind?: string;
  members: number;
  profile: string;
  counts: Record<FaultKind, number>;
  linearizability: string;
  opsOk: number;
  maxTerm: number;
}

/** Runs one seed and condenses its result. */
export function runSummary(seed: number, req: Omit<WorkRequest, 'seeds'>): SeedSummary {
  const r = runSeed({
    seed,
    ticks: req.ticks,
    ...(req.members === undefined ? {} : { members: req.members }),
    ...(req.raftFaults === undefined ? {} : { raftFaults: req.raftFaults }),
    ...(req.profile === undefined ? {} : { profile: req.profile }),
  });
  return {
    seed,
    ok: r.violation === undefined,
    ...(r.violation === undefined ? {} : { failure: formatFailure(r), violationKind: r.violation.kind }),
    members: r.members,
    profile: describeProfile(r.profile),
    counts: r.counts,
    linearizability: r.stats.linearizability,
    opsOk: r.stats.opsOk,
    maxTerm: r.stats.maxTerm,
  };
}

if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (req: WorkRequest) => {
    port.postMessage(req.seeds.map((seed) => runSummary(seed, req)));
  });
}
