// Command-line parsing of the load generator (etcd benchmark's option names).
import { type BenchOptions, DEFAULT_OPTIONS, WORKLOADS, type Workload } from './workload.ts';

/** The --help text. */
export const USAGE = `usage: npm run bench -- --endpoints HOST:PORT[,...] <put|range|txn|watch> [options]

options (etcd benchmark's names; defaults in brackets):
  --key-size N          bytes per key [32]
  --val-size N          bytes per value [256]
  --total N             requests in all; watch: puts, each seen by every watcher [10000]
  --conns N             HTTP/2 connections, round-robin over endpoints [1]
  --clients N           the same as --conns
  --in-flight N         requests outstanding at once, across connections [1]
  --consistency l|s     range: linearizable or serializable [l]
  --key-space-size N    distinct keys; > 1 uses the lean driver (h2load posts one body) [1]
  --sequential-keys     keys 0,1,2… instead of random
  --watchers N          watch streams (watch only) [1]
  --driver auto|h2load|lean   [auto: h2load for one fixed key, else lean]
  --json                print the result as JSON
`;

const NUMERIC: Record<string, keyof BenchOptions> = {
  '--key-size': 'keyBytes',
  '--val-size': 'valueBytes',
  '--total': 'total',
  '--conns': 'conns',
  '--clients': 'conns',
  '--in-flight': 'inFlight',
  '--key-space-size': 'keySpaceSize',
  '--watchers': 'watchers',
};

/** Parses the command line; throws with a message on bad input. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const o: Omit<BenchOptions, 'endpoints' | 'workload'> & Partial<BenchOptions> = { ...DEFAULT_OPTIONS };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      const v = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`bench: ${flag} needs a value`);
      return v;
    };
    const field = NUMERIC[flag];
    if (field !== undefined) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${flag} must be a positive integer`);
      (o as Record<string, unknown>)[field] = n;
    } else if (flag === '--endpoints') o.endpoints = value().split(',').filter((e) => e !== '');
    else if (flag === '--consistency') {
      const v = value();
      if (v !== 'l' && v !== 's') throw new Error('bench: --consistency is l or s');
      o.consistency = v;
    } else if (flag === '--driver') {
      const v = value();
      if (v !== 'auto' && v !== 'h2load' && v !== 'lean') throw new Error('bench: --driver is auto, h2load or lean');
      o.driver = v;
    } else if (flag === '--sequential-keys') o.sequentialKeys = true;
    else if (flag === '--json') o.json = true;
    else if ((WORKLOADS as readonly string[]).includes(flag) && o.workload === undefined) o.workload = flag as Workload;
    else throw new Error(`bench: unknown argument "${raw}"`);
  }
  if (o.endpoints === undefined || o.endpoints.length === 0) throw new Error('bench: --endpoints is required');
  if (o.workload === undefined) throw new Error('bench: name a workload: put, range, txn or watch');
  if (o.conns > o.inFlight && o.workload !== 'watch') o.conns = o.inFlight;
  if (10 ** o.keyBytes < o.keySpaceSize) throw new Error('bench: --key-size too small for --key-space-size');
  return { ...o, endpoints: o.endpoints, workload: o.workload };
}
