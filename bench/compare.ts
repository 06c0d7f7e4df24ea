// Side by side: concord and real etcd (one member each, data on disk, this machine) under the same
// workloads, interleaved (concord, etcd, concord, etcd…) because other work shares the machine;
// each figure is the median of --rounds runs. Then a CPU profile of concord under put/256.
// Writes the generated part of BENCHMARKS.md (between its markers; the analysis around is kept).
// Run: npx tsx bench/compare.ts [--rounds 3] [--quick] [--no-profile | --profile-only] [--out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from './load/args.ts';
import { fmt, machine, median } from './load/report.ts';
import { monotonicUs, summarizeProfile, type ProfileSummary } from './load/profile.ts';
import type { BenchResult } from './load/result.ts';
import { runBench } from './load/run.ts';
import { type ServerKind, type ServerProcess, cpuSeconds, rssKiB, startServer } from './load/servers.ts';
import { keyCount } from './load/verify.ts';

const root = join(import.meta.dirname, '..');
const KINDS: ServerKind[] = ['concord', 'etcd'];

/** A row of the throughput table: the bench arguments after `--endpoints EP`. */
interface Workload {
  label: string;
  args: string;
}

function workloads(scale: number): Workload[] {
  const n = (x: number): number => Math.max(100, Math.round(x * scale));
  return [
    { label: 'put, 1 in flight', args: `put --total ${n(2000)} --in-flight 1 --conns 1` },
    { label: 'put, 16 in flight', args: `put --total ${n(8000)} --in-flight 16 --conns 4` },
    { label: 'put, 256 in flight', args: `put --total ${n(30000)} --in-flight 256 --conns 4` },
    { label: 'range (linearizable), 1 in flight', args: `range --consistency l --total ${n(3000)} --in-flight 1 --conns 1` },
    { label: 'range (linearizable), 256 in flight', args: `range --consistency l --total ${n(30000)} --in-flight 256 --conns 4` },
    { label: 'range (serializable), 1 in flight', args: `range --consistency s --total ${n(3000)} --in-flight 1 --conns 1` },
    { label: 'range (serializable), 256 in flight', args: `range --consistency s --total ${n(30000)} --in-flight 256 --conns 4` },
    { label: 'watch', args: `watch --total ${n(1000)} --in-flight 1 --watchers 1 --conns 1` },
  ];
}

/** 100k distinct keys (32-byte keys, 256-byte values) for the memory and disk rows. */
const fillArgs = (scale: number): string =>
  `put --total ${Math.max(1000, Math.round(100_000 * scale))} --key-space-size ${Math.max(1000, Math.round(100_000 * scale))} ` +
  '--sequential-keys --in-flight 256 --conns 4';

/** One measured run of one server. */
interface Sample {
  result: BenchResult;
  /** Server CPU during the run, in cores, and per request in µs. */
  serverCores: number;
  serverCpuUsPerOp: number;
}

interface FillSample {
  /** RSS of the fresh server, before any request. */
  rssStartMiB: number;
  rssMiB: number;
  diskMiB: number;
  keys: number;
}

function log(msg: string): void {
  process.stderr.write(`[compare ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function measure(server: ServerProcess, args: string): Promise<Sample> {
  const options = parseArgs(['--endpoints', server.endpoint, ...args.split(' ')]);
  const cpuBefore = cpuSeconds(server.pid);
  const result = await runBench(options);
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  if (!result.verified) throw new Error(`compare: ${server.kind} ${args}: checks failed:\n${result.checks.join('\n')}`);
  return {
    result,
    serverCores: cpu / result.elapsedSeconds,
    serverCpuUsPerOp: (cpu * 1e6) / result.succeeded,
  };
}

function diskKiB(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);
}

async function fill(kind: ServerKind, scale: number): Promise<FillSample> {
  const server = await startServer(kind);
  try {
    const rssStartMiB = rssKiB(server.pid) / 1024;
    await measure(server, fillArgs(scale));
    // Let concord's backend batch (100 ms) and etcd's (100 ms) commit before reading the disk.
    await new Promise((r) => setTimeout(r, 1500));
    return {
      rssStartMiB,
      rssMiB: rssKiB(server.pid) / 1024,
      diskMiB: diskKiB(server.dataDir) / 1024,
      keys: await keyCount(server.endpoint, 32),
    };
  } finally {
    await server.stop();
  }
}

async function profileConcord(args: string): Promise<{ summary: ProfileSummary; sample: Sample }> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-prof-'));
  try {
    const server = await startServer('concord', { cpuProfileDir: dir });
    let sample: Sample;
    const window = { startUs: 0, endUs: 0 };
    try {
      window.startUs = monotonicUs();
      sample = await measure(server, args);
      window.endUs = monotonicUs();
    } finally {
      await server.stop();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error('compare: concord wrote no CPU profile');
    return { summary: summarizeProfile(join(dir, file), { top: 25, window }), sample };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Collected {
  samples: Map<string, Record<ServerKind, Sample[]>>;
  fills: Record<ServerKind, FillSample[]>;
  loads: string[];
}

async function collect(rounds: number, scale: number): Promise<Collected> {
  const list = workloads(scale);
  const samples = new Map(list.map((w) => [w.label, { concord: [], etcd: [] } as Record<ServerKind, Sample[]>]));
  const fills: Record<ServerKind, FillSample[]> = { concord: [], etcd: [] };
  const loads: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    loads.push(loadAverage());
    log(`round ${round}/${rounds}, load average ${loads.at(-1)}`);
    const servers: Partial<Record<ServerKind, ServerProcess>> = {};
    try {
      for (const kind of KINDS) servers[kind] = await startServer(kind);
      for (const w of list) {
        for (const kind of KINDS) {
          const s = await measure(servers[kind]!, w.args);
          samples.get(w.label)![kind].push(s);
          log(`${kind} ${w.label}: ${fmt(s.result.opsPerSecond)}/s p99 ${fmt(s.result.latencyMs.p99)}ms`);
        }
      }
    } finally {
      await Promise.all(Object.values(servers).map((s) => s.stop()));
    }
    for (const kind of KINDS) {
      fills[kind].push(await fill(kind, scale));
      log(`${kind} after fill: RSS ${fmt(fills[kind].at(-1)!.rssMiB)} MiB, disk ${fmt(fills[kind].at(-1)!.diskMiB)} MiB`);
    }
  }
  loads.push(loadAverage());
  return { samples, fills, loads };
}

function row(label: string, c: number, e: number): string {
  return `| ${label} | ${fmt(c)} | ${fmt(e)} | ${(c / e).toFixed(2)} |`;
}

function mainTable(data: Collected): string[] {
  const out = ['| workload (32-byte key, 256-byte value) | concord | etcd 3.4 | concord/etcd |', '|---|---:|---:|---:|'];
  for (const [label, by] of data.samples) {
    const m = (kind: ServerKind, f: (s: Sample) => number): number => median(by[kind].map(f));
    if (label === 'watch') {
      out.push(row('watch event latency p50 (ms, put → event)', m('concord', (s) => s.result.latencyMs.p50), m('etcd', (s) => s.result.latencyMs.p50)));
      out.push(row('watch event latency p99 (ms)', m('concord', (s) => s.result.latencyMs.p99), m('etcd', (s) => s.result.latencyMs.p99)));
    } else {
      out.push(row(`${label} (ops/s)`, m('concord', (s) => s.result.opsPerSecond), m('etcd', (s) => s.result.opsPerSecond)));
    }
  }
  const f = (kind: ServerKind, g: (s: FillSample) => number): number => median(data.fills[kind].map(g));
  const keys = data.fills.concord[0]?.keys ?? 0;
  out.push(row('RSS of a fresh server (MiB, VmRSS)', f('concord', (s) => s.rssStartMiB), f('etcd', (s) => s.rssStartMiB)));
  out.push(row(`RSS after ${keys.toLocaleString('en-US')} keys (MiB, VmRSS)`, f('concord', (s) => s.rssMiB), f('etcd', (s) => s.rssMiB)));
  out.push(row(`data on disk after ${keys.toLocaleString('en-US')} keys (MiB, du -sk)`, f('concord', (s) => s.diskMiB), f('etcd', (s) => s.diskMiB)));
  return out;
}

function detailTable(data: Collected): string[] {
  const out = [
    '| workload | server | ops/s (runs) | p50 | p90 | p99 | p99.9 | max (ms) | server CPU (cores) | server CPU µs/op | driver CPU (cores) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [label, by] of data.samples) {
    for (const kind of KINDS) {
      const runs = by[kind];
      const m = (f: (s: Sample) => number): string => fmt(median(runs.map(f)));
      const l = (f: (s: BenchResult['latencyMs']) => number): string => m((s) => f(s.result.latencyMs));
      out.push(
        `| ${label} | ${kind} | ${runs.map((s) => fmt(s.result.opsPerSecond)).join(' / ')} | ${l((x) => x.p50)} | ${l((x) => x.p90)} | ` +
          `${l((x) => x.p99)} | ${l((x) => x.p999)} | ${l((x) => x.max)} | ${m((s) => s.serverCores)} | ${m((s) => s.serverCpuUsPerOp)} | ` +
          `${m((s) => s.result.driverCpuCores)} |`,
      );
    }
  }
  return out;
}

function profileSection(p: { summary: ProfileSummary; sample: Sample }, args: string): string[] {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const { summary, sample } = p;
  return [
    `Profile of concord under \`${args}\` (\`node --cpu-prof\`): ${fmt(sample.result.opsPerSecond)} ops/s, ` +
      `server CPU ${fmt(sample.serverCores)} cores (${fmt(sample.serverCpuUsPerOp)} µs/op), ` +
      `profile ${fmt(summary.totalMs / 1000)} s of main-thread time of which idle ${pct(summary.idleShare)}, GC ${pct(summary.gcShare)}.`,
    '',
    'Top self time by function:',
    '',
    '| self | share | function |',
    '|---:|---:|---|',
    ...summary.functions.map((f) => `| ${fmt(f.ms)} ms | ${pct(f.share)} | \`${f.name}\` |`),
    '',
    'Self time by file:',
    '',
    '| self | share | file |',
    '|---:|---:|---|',
    ...summary.files.slice(0, 15).map((f) => `| ${fmt(f.ms)} ms | ${pct(f.share)} | \`${f.name}\` |`),
  ];
}

const START = '<!-- compare.ts: generated from here -->';
const END = '<!-- compare.ts: generated up to here -->';

function writeReport(path: string, generated: string[]): void {
  const block = [START, ...generated, END].join('\n');
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a >= 0 && b > a) {
      writeFileSync(path, text.slice(0, a) + block + text.slice(b + END.length));
      return;
    }
  }
  writeFileSync(path, `# Benchmarks: concord vs etcd\n\n${block}\n\n## Analysis\n\n(to be written)\n`);
}

async function main(argv: string[]): Promise<void> {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const rounds = Number(value('--rounds') ?? 3);
  const scale = argv.includes('--quick') ? 0.05 : 1;
  const out = value('--out') ?? join(root, 'BENCHMARKS.md');
  const started = machine();
  const profArgs = workloads(scale).find((w) => w.label === 'put, 256 in flight')!.args;
  if (argv.includes('--profile-only')) {
    process.stdout.write(`${profileSection(await profileConcord(profArgs), profArgs).join('\n')}\n`);
    return;
  }
  const data = await collect(rounds, scale);
  let profile: string[] = ['(profile skipped: --no-profile)'];
  if (!argv.includes('--no-profile')) {
    log('profiling concord under put/256');
    profile = profileSection(await profileConcord(profArgs), profArgs);
  }
  const generated = [
    '## Results',
    '',
    `Medians of ${rounds} interleaved runs (concord, etcd, concord, etcd, …), one member each, data on disk.`,
    '',
    ...mainTable(data),
    '',
    '## Machine and conditions',
    '',
    ...started,
    `- load average (1/5/15 min) before each round and at the end: ${data.loads.join(' → ')} — other sessions share this machine; absolute figures are depressed and noisy, the ratios are the point`,
    '',
    '## Commands',
    '',
    '```sh',
    `npx tsx bench/compare.ts --rounds ${rounds}${scale === 1 ? '' : ' --quick'}   # this file`,
    ...workloads(scale).map((w) => `npm run bench -- --endpoints $EP ${w.args}`),
    `npm run bench -- --endpoints $EP ${fillArgs(scale)}   # then VmRSS of /proc/PID/status, du -sk $DATA_DIR`,
    '```',
    '',
    'Servers (each on free 127.0.0.1 ports, fresh data dir in /tmp):',
    '',
    '```sh',
    `etcd --data-dir $DATA_DIR --listen-client-urls http://127.0.0.1:$PORT ... --initial-cluster default=http://127.0.0.1:$PEER`,
    `node --import tsx src/cli/concord.ts   # same flags`,
    '```',
    '',
    'Unary workloads on one fixed key are driven by h2load posting a fixed gRPC body; for example put/256:',
    '',
    '```sh',
    String(
      (data.samples.get('put, 256 in flight')?.concord[0]?.result.options['h2load'] as string[] | undefined)?.[0] ?? '',
    ).replace(/-d \S+/, '-d put-body.bin').replace(/--log-file \S+ /, '--log-file requests.tsv '),
    '```',
    '',
    '## All runs',
    '',
    ...detailTable(data),
    '',
    '## Where concord spends its CPU (put, 256 in flight)',
    '',
    ...profile,
  ];
  writeReport(out, generated);
  log(`wrote ${out}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`compare: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
