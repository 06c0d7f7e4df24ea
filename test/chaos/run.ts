// One chaos run: start a cluster, run the workloads, inject the seeded fault schedule, heal
// everything, let the cluster settle under load, stop the workers, make the final reads and
// ask every checker. The history (history.jsonl), the report (report.json) and the members'
// logs stay in the run's work directory.
import { setMaxListeners } from 'node:events';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRng } from '../../src/util/rng.ts';
import type { Verdict } from './checkers/verdict.ts';
import { countOutcomes, History, jsonReplacer } from './history.ts';
import { startCluster } from './cluster.ts';
import { runSchedule, type FaultRecord } from './nemesis.ts';
import { exitCodeOf, overallResult, type RunReport } from './report.ts';
import { describeSchedule, type Episode, generateSchedule } from './schedule.ts';
import { type Cluster, type ClusterTarget, FAULT_KINDS, type FaultKind, type TargetKind } from './types.ts';
import { appendWorkload } from './workloads/append.ts';
import { leaseWorkload } from './workloads/lease.ts';
import { registerWorkload } from './workloads/register.ts';
import { watchWorkload } from './workloads/watch.ts';
import {
  type CheckContext, sleep, type Workload, type WorkloadContext, WORKLOAD_NAMES, type WorkloadName,
} from './workloads/workload.ts';

/** Options of a run. */
export interface RunOptions {
  target: TargetKind;
  members: number;
  seed: number;
  /** How long faults are injected, in seconds (the first round of every kind may take longer). */
  timeSeconds: number;
  workloads?: readonly WorkloadName[];
  /** Fault kinds to draw from; default every kind the cluster supports. */
  faults?: readonly FaultKind[];
  /** Environment for every member (the unsafe test switches). */
  env?: Record<string, string>;
  args?: string[];
  /** Load without faults before the first and after the last healing, in seconds (5). */
  quietSeconds?: number;
  /** Hold and gap ranges of episodes, in ms. */
  holdMs?: [number, number];
  gapMs?: [number, number];
  workDir?: string;
  /** Budget of each checker's search, in ms (60 s). */
  checkTimeoutMs?: number;
  log?: (line: string) => void;
}

/** How long after a healing the cluster may still behave as under the fault, in ms. */
const SETTLE_MS = 5_000;
/** The longest a worker may take to notice the stop (its call deadline and a bit), in ms. */
const STOP_WAIT_MS = 15_000;

/** Runs one chaos run and reports; never throws for what it finds (only for what it cannot do). */
export async function run(options: RunOptions): Promise<RunReport> {
  const startedAt = new Date();
  const history = new History();
  const workDir = options.workDir ??
    mkdtempSync(join(tmpdir(), `concord-chaos-${options.target}-${options.seed}-`));
  const runLog = join(workDir, 'run.log');
  const log = (line: string): void => {
    const text = `${(history.now() / 1000).toFixed(2).padStart(8)}s ${line}`;
    appendFileSync(runLog, text + '\n');
    options.log?.(text);
  };
  const workloadNames = options.workloads ?? WORKLOAD_NAMES;
  const target: ClusterTarget = {
    kind: options.target, members: options.members, seed: options.seed, workDir, log,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.args === undefined ? {} : { args: options.args }),
  };
  log(`starting ${options.members} ${options.target} members in ${workDir}`);
  const cluster = await startCluster(target);
  const harnessErrors: string[] = [];
  const kinds = (options.faults ?? FAULT_KINDS).filter((k) => cluster.faults.has(k));
  const skipped = (options.faults ?? FAULT_KINDS).filter((k) => !cluster.faults.has(k));
  if (skipped.length > 0) log(`this cluster cannot inject: ${skipped.join(' ')}`);
  const schedule = generateSchedule({
    seed: options.seed, timeMs: options.timeSeconds * 1000, kinds,
    ...(options.holdMs === undefined ? {} : { holdMs: options.holdMs }),
    ...(options.gapMs === undefined ? {} : { gapMs: options.gapMs }),
  });
  let outcome: { faults: FaultRecord[]; verdicts: Verdict[] };
  try {
    outcome = await exercise(cluster, schedule, { options, history, log, workDir, harnessErrors });
  } finally {
    await cluster.tearDown();
    history.save(join(workDir, 'history.jsonl'));
  }
  const { faults, verdicts } = outcome;
  const ops: RunReport['ops'] = {};
  for (const [name, counts] of countOutcomes(history.entries())) ops[name] = counts;
  const report: RunReport = {
    target: options.target,
    members: options.members,
    seed: options.seed,
    timeSeconds: options.timeSeconds,
    workloads: [...workloadNames],
    faultKinds: kinds,
    startedAt: startedAt.toISOString(),
    durationMs: history.now(),
    ops,
    schedule: describeSchedule(schedule),
    faults,
    verdicts,
    harnessErrors,
    result: overallResult(verdicts, harnessErrors),
    workDir,
    reproduce: reproduceCommand(options),
  };
  writeFileSync(join(workDir, 'report.json'), JSON.stringify(report, jsonReplacer, 2));
  // A clean run keeps its history and logs, not hundreds of megabytes of member data
  // (cluster.ts keeps a member's data in <workDir>/<name>/data).
  if (report.result === 'ok') {
    for (const m of cluster.members) rmSync(join(workDir, m.name, 'data'), { recursive: true, force: true });
  }
  log(`result ${report.result} (exit code ${exitCodeOf(report.result)})`);
  return report;
}

/** What one run needs besides the cluster and the schedule. */
interface Exercise {
  options: RunOptions;
  history: History;
  log(line: string): void;
  workDir: string;
  harnessErrors: string[];
}

/**
 * Runs the workloads, quiet first, then the schedule; recovers every member, lets the cluster
 * settle under load, stops the workers and asks each checker.
 */
async function exercise(
  cluster: Cluster,
  schedule: Episode[],
  { options, history, log, workDir, harnessErrors }: Exercise,
): Promise<{ faults: FaultRecord[]; verdicts: Verdict[] }> {
  const stop = new AbortController();
  // Every sleeping worker listens for the stop.
  setMaxListeners(1_000, stop.signal);
  const rng = new SeededRng(options.seed);
  let processes = 0;
  const ctxFor = (name: string): WorkloadContext => ({
    history,
    endpoints: () => cluster.clientUrls(),
    rng: rng.fork(),
    signal: stop.signal,
    nextProcess: () => processes++,
    prefix: '/chaos/',
    log: (line) => log(`${name}: ${line}`),
  });
  const workloads = (options.workloads ?? WORKLOAD_NAMES)
    .map((name) => ({ workload: makeWorkload(name), ctx: ctxFor(name) }));
  const running = workloads.map(({ workload, ctx }) => workload.run(ctx).catch((err: unknown) => {
    harnessErrors.push(`${workload.name} workers: ${String(err)}`);
  }));
  const quietMs = (options.quietSeconds ?? 5) * 1000;
  await sleep(quietMs);
  const faultsStart = history.now();
  const faults = await runSchedule(cluster, schedule, { now: () => history.now(), log });
  const left = options.timeSeconds * 1000 - (history.now() - faultsStart);
  if (left > 0) await sleep(left);
  log('recovering every member');
  await cluster.recover();
  await sleep(quietMs);
  log('stopping the workers');
  stop.abort();
  await Promise.race([Promise.all(running), sleep(STOP_WAIT_MS)]);
  for (const f of faults) {
    if (f.error !== undefined) harnessErrors.push(`fault #${f.index} ${f.kind}: ${f.error}`);
  }
  const windows = faults.map((f) => ({
    fromMs: f.injectedMs,
    toMs: (Number.isNaN(f.healedMs) ? history.now() : f.healedMs) + SETTLE_MS,
  }));
  const check: CheckContext = {
    workDir,
    faults: windows,
    checkTimeoutMs: options.checkTimeoutMs ?? 60_000,
    // NB: etcd 3.4.23 lets a stale (paused) leader renew leases (etcd-io/etcd#15247).
    staleLeaderRenewals: options.target === 'etcd' ? 'tolerated' : 'violation',
  };
  const verdicts = await checkAll(workloads, check, log, harnessErrors);
  return { faults, verdicts };
}

/** The command line that replays a run's schedule. */
function reproduceCommand(o: RunOptions): string {
  const parts = ['npm run chaos --', `--time ${o.timeSeconds}`, `--members ${o.members}`, `--seed ${o.seed}`];
  if (o.target === 'etcd') parts.push('--target etcd');
  if (o.workloads !== undefined) parts.push(`--workloads ${o.workloads.join(',')}`);
  if (o.faults !== undefined) parts.push(`--faults ${o.faults.join(',')}`);
  if (o.quietSeconds !== undefined) parts.push(`--quiet ${o.quietSeconds}`);
  if (o.holdMs !== undefined || o.gapMs !== undefined) parts.push('(with the same hold and gap ranges)');
  return parts.join(' ');
}

function makeWorkload(name: WorkloadName): Workload {
  switch (name) {
    case 'register': return registerWorkload();
    case 'append': return appendWorkload();
    case 'watch': return watchWorkload();
    case 'lease': return leaseWorkload();
  }
}

async function checkAll(
  workloads: { workload: Workload; ctx: WorkloadContext }[],
  check: CheckContext,
  log: (line: string) => void,
  harnessErrors: string[],
): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const { workload, ctx } of workloads) {
    log(`checking ${workload.name}`);
    try {
      const verdict = await workload.check(ctx, check);
      log(`${workload.name}: ${verdict.result}: ${verdict.summary}`);
      verdicts.push(verdict);
    } catch (err) {
      harnessErrors.push(`${workload.name} check: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return verdicts;
}
