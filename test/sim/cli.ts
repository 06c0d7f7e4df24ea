// The simulation CLI: `npm run sim -- --seeds N [--first-seed S] [--seed S] [--members M]
// [--ticks T] [--workers W] [--verbose] [--raft-fault F]`. Runs seeds on worker threads, prints
// progress and each failing seed with its trace, then a summary; exits non-zero on any violation.
import { availableParallelism } from 'node:os';
import { formatSeed } from './run.ts';
import { FaultKind } from './profile.ts';
import { runSeeds } from './pool.ts';
import type { SeedSummary } from './worker.ts';

interface CliOptions {
  seeds: number[];
  raftFault?: 'voteTwice' | 'commitPreviousTerm';
  members?: number;
  ticks: number;
  workers: number;
  verbose: boolean;
}

const usage = 'usage: npm run sim -- --seeds N [--first-seed S] [--seed S] [--members M] [--ticks T] ' +
  '[--workers W] [--verbose] [--raft-fault voteTwice|commitPreviousTerm]';

function parseNumber(flag: string, value: string | undefined): number {
  const n = value === undefined ? NaN : Number(value); // Number() reads 0x.. too
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`sim: ${flag} needs a non-negative integer, got "${value}"\n${usage}`);
  return n;
}

function parseArgs(argv: string[]): CliOptions {
  let count = 100;
  let first = 1;
  let single: number | undefined;
  const opts: CliOptions = { seeds: [], ticks: 2000, workers: Math.min(2, availableParallelism()), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): number => parseNumber(flag, argv[++i]);
    switch (flag) {
      case '--seeds': count = value(); break;
      case '--first-seed': first = value(); break;
      case '--seed': single = value(); break;
      case '--members': opts.members = value(); break;
      case '--ticks': opts.ticks = value(); break;
      case '--workers': opts.workers = Math.max(1, value()); break;
      case '--verbose': opts.verbose = true; break;
      case '--raft-fault': {
        const name = argv[++i];
        if (name !== 'voteTwice' && name !== 'commitPreviousTerm') throw new Error(`sim: unknown raft fault "${name}"\n${usage}`);
        opts.raftFault = name;
        break;
      }
      default: throw new Error(`sim: unknown argument "${flag}"\n${usage}`);
    }
  }
  opts.seeds = single !== undefined ? [single] : Array.from({ length: count }, (_, i) => first + i);
  return opts;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const totals = Object.fromEntries(Object.values(FaultKind).map((k) => [k, 0])) as Record<FaultKind, number>;
  const failed: SeedSummary[] = [];
  let done = 0;
  let unknown = 0;
  const every = Math.max(1, Math.floor(opts.seeds.length / 20));
  const verbose = opts.verbose || opts.seeds.length === 1;
  console.log(`sim: ${opts.seeds.length} seeds from ${formatSeed(opts.seeds[0] ?? 0)}, ${opts.ticks} ticks, ` +
    `${opts.members ?? '3/5/7'} members, ${opts.workers} workers`);
  const base = {
    ticks: opts.ticks,
    ...(opts.members === undefined ? {} : { members: opts.members }),
    ...(opts.raftFault === undefined ? {} : { raftFaults: { [opts.raftFault]: true } }),
  };
  await runSeeds(opts.seeds, base, { workers: opts.workers }, (s) => {
    done++;
    for (const k of Object.values(FaultKind)) totals[k] += s.counts[k];
    if (s.linearizability === 'unknown') unknown++;
    if (verbose) {
      console.log(`seed ${formatSeed(s.seed)}: ${s.profile}`);
      console.log(`  ${s.ok ? 'ok' : 'FAILED'}: ${s.opsOk} client operations, max term ${s.maxTerm}, ` +
        `linearizability ${s.linearizability}; faults ${describeCounts(s.counts)}`);
    }
    if (!s.ok) {
      failed.push(s);
      console.log(`\n${s.failure}\n`);
    }
    if (!verbose && done % every === 0) {
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`[${String(done).padStart(String(opts.seeds.length).length)}/${opts.seeds.length}] ` +
        `${failed.length} failed, ${secs} s`);
    }
  });
  const secs = (performance.now() - started) / 1000;
  console.log(`\nsim: ${done} seeds in ${secs.toFixed(1)} s (${(done / secs).toFixed(1)} seeds/s): ` +
    `${done - failed.length} passed, ${failed.length} failed; linearizability inconclusive on ${unknown}`);
  console.log(`faults: ${describeCounts(totals)}`);
  if (failed.length > 0) console.log(`failing seeds: ${failed.map((f) => formatSeed(f.seed)).join(' ')}`);
  return failed.length === 0 ? 0 : 1;
}

function describeCounts(counts: Record<FaultKind, number>): string {
  return Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 2;
});
