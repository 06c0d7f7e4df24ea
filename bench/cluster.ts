// Side by side: a 3-member concord cluster and a 3-member real etcd 3.4 cluster on loopback
// (127.0.0.21-23, free ports, data on disk in a temporary directory), one after the other, each
// fresh for every round; load goes to the leader's client URL. Measures put at 16 and 256 in flight,
// linearizable range at 256 in flight (bench/load, h2load), and the time from kill -9 of the leader
// to the first successful write (bench/load/failover.ts), the killed member restarted between
// trials. Each figure is the median over rounds; the order of the two alternates between rounds.
// Writes its part of BENCHMARKS.md (between its own markers; the text around is kept).
// Run: npm run bench:cluster -- [--rounds 3] [--kills 3] [--quick] [--only concord|etcd] [--out FILE | --no-write]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './load/args.ts';
import { fmt, machine, median } from './load/report.ts';
import { BenchCluster, type BenchMember, killAllNow, stopAllClusters } from './load/cluster.ts';
import { type FailoverTrial, failoverTrial } from './load/failover.ts';
import type { BenchResult } from './load/result.ts';
import { runBench } from './load/run.ts';
import { type ServerKind, cpuSeconds } from './load/servers.ts';

const root = join(import.meta.dirname, '..');

interface Workload {
  label: string;
  args: string;
}

function workloads(scale: number): Workload[] {
  const n = (x: number): number => Math.max(100, Math.round(x * scale));
  return [
    { label: 'put, 16 in flight', args: `put --total ${n(8000)} --in-flight 16 --conns 4` },
    { label: 'put, 256 in flight', args: `put --total ${n(30000)} --in-flight 256 --conns 4` },
    { label: 'range (linearizable), 256 in flight', args: `range --consistency l --total ${n(30000)} --in-flight 256 --conns 4` },
  ];
}

/** A load run has this long before it counts as a hang. */
const RUN_TIMEOUT_MS = 240_000;

interface Sample {
  round: number;
  result: BenchResult;
  /** CPU of the leader, and of all three members, during the run (cores). */
  leaderCores: number;
  clusterCores: number;
  /** CPU of all three members per request (µs). */
  clusterCpuUsPerOp: number;
  /** Leader changes seen across the run (term before → after), if any. */
  leaderNote: string;
}

interface Trial extends FailoverTrial {
  round: number;
}

interface Collected {
  samples: Map<string, Record<ServerKind, Sample[]>>;
  trials: Record<ServerKind, Trial[]>;
  uptimes: string[];
  commands: Record<ServerKind, string[]>;
}

function log(msg: string): void {
  process.stderr.write(`[cluster ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function uptime(): string {
  return execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/\s+/g, ' ');
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms (hang?)`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function measure(cluster: BenchCluster, round: number, w: Workload): Promise<Sample> {
  const before = await cluster.waitStable();
  const leader = before.leader;
  const pids = cluster.members.map((m) => m.pid);
  const cpu0 = pids.map(cpuSeconds);
  const result = await withTimeout(
    runBench(parseArgs(['--endpoints', leader.endpoint, ...w.args.split(' ')])),
    RUN_TIMEOUT_MS,
    `${cluster.kind} ${w.label} against leader ${leader.name}`,
  );
  const cpu = pids.map((pid, i) => cpuSeconds(pid) - cpu0[i]!);
  if (!result.verified) throw new Error(`${cluster.kind} ${w.label}: checks failed:\n${result.checks.join('\n')}`);
  const after = await cluster.waitStable();
  const total = cpu.reduce((a, b) => a + b, 0);
  return {
    round,
    result,
    leaderCores: cpu[cluster.members.indexOf(leader)]! / result.elapsedSeconds,
    clusterCores: total / result.elapsedSeconds,
    clusterCpuUsPerOp: (total * 1e6) / result.succeeded,
    leaderNote:
      after.leader === leader && after.term === before.term
        ? ''
        : `leader ${leader.name} term ${before.term} → ${after.leader.name} term ${after.term}`,
  };
}

/** One fresh cluster of `kind`: the load workloads, then `kills` failover trials; always torn down. */
async function oneCluster(kind: ServerKind, round: number, scale: number, kills: number, data: Collected): Promise<void> {
  log(`${kind}: starting 3 members (${uptime()})`);
  const cluster = await BenchCluster.start(kind);
  let during = 'measuring';
  try {
    if (data.commands[kind].length === 0) data.commands[kind] = cluster.members.map((m) => cluster.command(m));
    const leader: BenchMember = await cluster.leader();
    log(`${kind}: leader ${leader.name} (${leader.endpoint})`);
    for (const w of workloads(scale)) {
      during = `running ${w.label}`;
      const s = await measure(cluster, round, w);
      data.samples.get(w.label)![kind].push(s);
      log(
        `${kind} ${w.label}: ${fmt(s.result.opsPerSecond)}/s p50 ${fmt(s.result.latencyMs.p50)}ms p99 ${fmt(s.result.latencyMs.p99)}ms` +
          ` leader ${fmt(s.leaderCores)} cores, cluster ${fmt(s.clusterCores)} cores${s.leaderNote === '' ? '' : ` (${s.leaderNote})`}`,
      );
    }
    for (let k = 1; k <= kills; k++) {
      during = `failover trial ${k}`;
      const t = await failoverTrial(cluster);
      data.trials[kind].push({ ...t, round });
      log(
        `${kind} failover ${k}/${kills}: kill -9 ${t.killed} → new leader named ${fmt(t.electedMs)} ms, first write ${fmt(t.ms)} ms (answered by ${t.answeredBy}, ` +
          `new leader ${t.newLeader}, term ${t.termBefore} → ${t.termAfter}, ${t.attempts} attempts; ${JSON.stringify(t.errors)}); ` +
          `stable again after ${fmt(t.rejoinMs)} ms`,
      );
    }
  } catch (err) {
    throw await cluster.failure(err, during);
  } finally {
    await cluster.destroy();
  }
}

async function collect(rounds: number, kills: number, scale: number, kinds: ServerKind[]): Promise<Collected> {
  const data: Collected = {
    samples: new Map(workloads(scale).map((w) => [w.label, { concord: [], etcd: [] } as Record<ServerKind, Sample[]>])),
    trials: { concord: [], etcd: [] },
    uptimes: [],
    commands: { concord: [], etcd: [] },
  };
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? kinds : [...kinds].reverse();
    for (const kind of order) {
      data.uptimes.push(`round ${round}, before ${kind}: ${uptime()}`);
      log(`round ${round}/${rounds}: ${kind}`);
      await oneCluster(kind, round, scale, kills, data);
    }
  }
  data.uptimes.push(`end: ${uptime()}`);
  return data;
}

function ratio(c: number, e: number): string {
  return e === 0 || Number.isNaN(c) || Number.isNaN(e) ? '—' : (c / e).toFixed(2);
}

function val(xs: number[]): number {
  return xs.length === 0 ? Number.NaN : median(xs);
}

function show(v: number): string {
  return Number.isNaN(v) ? '—' : fmt(v);
}

/** concord/etcd of each round's figures (the two ran minutes apart: the fairest pairing under shared load). */
function perRound(c: { round: number; v: number }[], e: { round: number; v: number }[]): string {
  const rounds = [...new Set(c.map((x) => x.round))].filter((r) => e.some((x) => x.round === r)).sort((a, b) => a - b);
  const at = (xs: { round: number; v: number }[], r: number): number => median(xs.filter((x) => x.round === r).map((x) => x.v));
  const ratios = rounds.map((r) => at(c, r) / at(e, r));
  return ratios.length === 0 ? '—' : ratios.map((x) => x.toFixed(2)).join(' / ');
}

function mainTable(data: Collected): string[] {
  const out = [
    '| workload (32-byte key, 256-byte value), 3 members, load on the leader | concord | etcd 3.4 | concord/etcd | concord/etcd in each round |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const [label, by] of data.samples) {
    const c = val(by.concord.map((s) => s.result.opsPerSecond));
    const e = val(by.etcd.map((s) => s.result.opsPerSecond));
    const pr = perRound(
      by.concord.map((s) => ({ round: s.round, v: s.result.opsPerSecond })),
      by.etcd.map((s) => ({ round: s.round, v: s.result.opsPerSecond })),
    );
    out.push(`| ${label} (ops/s) | ${show(c)} | ${show(e)} | ${ratio(c, e)} | ${pr} |`);
  }
  const c = val(data.trials.concord.map((t) => t.ms));
  const e = val(data.trials.etcd.map((t) => t.ms));
  const n = Math.max(data.trials.concord.length, data.trials.etcd.length);
  const pr = perRound(
    data.trials.concord.map((t) => ({ round: t.round, v: t.ms })),
    data.trials.etcd.map((t) => ({ round: t.round, v: t.ms })),
  );
  out.push(
    `| kill -9 of the leader → first successful write (ms, median of ${n}; lower is better) | ${show(c)} | ${show(e)} | ${ratio(c, e)} | ${pr} |`,
  );
  return out;
}

function detailTable(data: Collected): string[] {
  const out = [
    '| workload | server | ops/s (runs) | p50 | p90 | p99 | max (ms) | leader CPU (cores) | 3 members CPU (cores) | 3 members CPU µs/op | driver CPU (cores) | leader changes |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const [label, by] of data.samples) {
    for (const kind of ['concord', 'etcd'] as const) {
      const runs = by[kind];
      if (runs.length === 0) continue;
      const m = (f: (s: Sample) => number): string => fmt(median(runs.map(f)));
      const notes = runs.filter((s) => s.leaderNote !== '').map((s) => `round ${s.round}: ${s.leaderNote}`);
      out.push(
        `| ${label} | ${kind} | ${runs.map((s) => fmt(s.result.opsPerSecond)).join(' / ')} | ${m((s) => s.result.latencyMs.p50)} | ` +
          `${m((s) => s.result.latencyMs.p90)} | ${m((s) => s.result.latencyMs.p99)} | ${m((s) => s.result.latencyMs.max)} | ` +
          `${m((s) => s.leaderCores)} | ${m((s) => s.clusterCores)} | ${m((s) => s.clusterCpuUsPerOp)} | ${m((s) => s.result.driverCpuCores)} | ` +
          `${notes.length === 0 ? 'none' : notes.join('; ')} |`,
      );
    }
  }
  return out;
}

function failoverTable(data: Collected): string[] {
  const out = [
    '| server | round | killed | new leader named (ms) | first write (ms) | answered by | new leader | term | attempts | failed attempts answered | stable again (ms) |',
    '|---|---:|---|---:|---:|---|---|---|---:|---|---:|',
  ];
  for (const kind of ['concord', 'etcd'] as const) {
    for (const t of data.trials[kind]) {
      const errors = Object.entries(t.errors).map(([k, v]) => `${v}× \`${k}\``).join(', ');
      out.push(
        `| ${kind} | ${t.round} | ${t.killed} | ${fmt(t.electedMs)} | ${fmt(t.ms)} | ${t.answeredBy} | ${t.newLeader} | ${t.termBefore} → ${t.termAfter} | ` +
          `${t.attempts} | ${errors === '' ? '(none answered before the success)' : errors} | ${fmt(t.rejoinMs)} |`,
      );
    }
  }
  return out;
}

const START = '<!-- cluster.ts: generated from here -->';
const END = '<!-- cluster.ts: generated up to here -->';

function writeReport(path: string, generated: string[]): void {
  const block = [START, ...generated, END].join('\n');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks: concord vs etcd\n';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) writeFileSync(path, text.slice(0, a) + block + text.slice(b + END.length));
  else writeFileSync(path, `${text.trimEnd()}\n\n# 3-member clusters: concord vs etcd\n\n${block}\n`);
}

async function main(argv: string[]): Promise<void> {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const rounds = Number(value('--rounds') ?? 3);
  const kills = Number(value('--kills') ?? 3);
  const quick = argv.includes('--quick');
  const scale = quick ? 0.1 : 1;
  const only = value('--only') as ServerKind | undefined;
  const kinds: ServerKind[] = only === undefined ? ['concord', 'etcd'] : [only];
  const out = value('--out') ?? join(root, 'BENCHMARKS.md');
  const started = machine();
  const command = `npm run bench:cluster -- ${argv.join(' ')}`.trim();
  const data = await collect(rounds, kills, scale, kinds);
  const generated = [
    '## Results',
    '',
    `Medians of ${rounds} rounds (the last column: the ratio of each round's figures, median of the kill trials in that round); each round starts a fresh 3-member cluster of each server in turn (the order alternates), ` +
      `runs the load against the leader's client URL, then ${kills} kill -9 trials on the same cluster (the killed member restarted ` +
      'with the same flags, and the cluster stable again, before the next trial).',
    '',
    ...mainTable(data),
    '',
    '## Machine and conditions',
    '',
    ...started,
    '- `uptime` before each cluster and at the end (other sessions share this machine; absolute figures are depressed and noisy, the ratios are the point):',
    ...data.uptimes.map((u) => `  - ${u}`),
    '',
    '## Commands',
    '',
    '```sh',
    `${command}   # this section`,
    ...workloads(scale).map((w) => `npm run bench -- --endpoints $LEADER ${w.args}`),
    '```',
    '',
    'Members (the etcd recipe, each on its own loopback address, free ports, data in a fresh temporary directory on disk):',
    '',
    '```sh',
    ...(['concord', 'etcd'] as const).flatMap((k) => data.commands[k]),
    '```',
    '',
    'Failover: a client holds a connection to each of the two surviving members and sends a put (`bench-failover`, 16-byte value, ' +
      'grpc-timeout 5 s) to each every 10 ms without waiting for earlier attempts; the time is from sending SIGKILL to the leader ' +
      'to the first put answered with grpc-status 0. Beside the puts, a Status call to each survivor (one outstanding per member, ' +
      'every 10 ms) times when a survivor first names a new leader ("new leader named"): the rest of the gap is the first commit.',
    '',
    '## All runs',
    '',
    ...detailTable(data),
    '',
    '## Failover trials',
    '',
    ...failoverTable(data),
  ];
  if (argv.includes('--no-write')) process.stdout.write(`${generated.join('\n')}\n`);
  else {
    writeReport(out, generated);
    log(`wrote ${out}`);
  }
}

// Every process started is stopped: on failure, on ctrl-c / SIGTERM, and (SIGKILL) at exit.
process.on('exit', killAllNow);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // NB: `on`, not `once`: ctrl-c may deliver the signal twice (the terminal's and tsx's relay).
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping every member`);
    void stopAllClusters().finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  async (err: unknown) => {
    process.stderr.write(`bench:cluster: ${(err as Error).stack ?? String(err)}\n`);
    await stopAllClusters();
    process.exit(1);
  },
);
