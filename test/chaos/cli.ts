// `npm run chaos -- --time SECONDS --members M --seed N [--target etcd]`: one chaos run, its
// report on stdout, progress on stderr; exit code 0 when clean, 1 on a violation, 2 when the
// harness could not judge the run, 3 when a checker was inconclusive.
import { parseArgs } from 'node:util';
import { formatReport, exitCodeOf } from './report.ts';
import { run } from './run.ts';
import { FAULT_KINDS, type FaultKind } from './types.ts';
import { WORKLOAD_NAMES, type WorkloadName } from './workloads/workload.ts';

const usage = `usage: npm run chaos -- [--time SECONDS] [--members M] [--seed N] [--target concord|etcd]
       [--workloads register,append,watch,lease] [--faults kill,pause-leader,...]
       [--quiet SECONDS] [--work-dir DIR] [--unsafe ack|reads]
fault kinds: ${FAULT_KINDS.join(' ')}
Members run in network namespaces when possible (root, iproute2); CONCORD_CHAOS_NETNS=off runs them
on loopback addresses instead, without partitions.`;

function list<T extends string>(
  text: string | undefined,
  allowed: readonly T[],
  what: string,
): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`chaos: unknown ${what} "${item}"\n${usage}`);
  }
  return items as T[];
}

const UNSAFE: Record<string, Record<string, string>> = {
  ack: { CONCORD_UNSAFE_ACK_BEFORE_DURABLE: '1' },
  reads: { CONCORD_UNSAFE_READS_WITHOUT_READINDEX: '1' },
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      time: { type: 'string', default: '60' },
      members: { type: 'string', default: '3' },
      seed: { type: 'string' },
      target: { type: 'string', default: 'concord' },
      workloads: { type: 'string' },
      faults: { type: 'string' },
      quiet: { type: 'string' },
      'work-dir': { type: 'string' },
      unsafe: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values.target !== 'concord' && values.target !== 'etcd') {
    throw new Error(`chaos: --target concord or etcd\n${usage}`);
  }
  const number = (text: string, flag: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`chaos: --${flag} wants an integer ≥ ${min}, not "${text}"`);
    return n;
  };
  const seed = values.seed === undefined ? Math.floor(Math.random() * 0x7fff_ffff) : number(values.seed, 'seed', 0);
  const env = values.unsafe === undefined ? undefined : UNSAFE[values.unsafe];
  if (values.unsafe !== undefined && env === undefined) throw new Error(`chaos: --unsafe ack or reads\n${usage}`);
  const workloads = list<WorkloadName>(values.workloads, WORKLOAD_NAMES, 'workload');
  const faults = list<FaultKind>(values.faults, FAULT_KINDS, 'fault kind');
  const members = number(values.members, 'members', 1);
  const timeSeconds = number(values.time, 'time', 0);
  console.error(`chaos: seed ${seed}`);
  const report = await run({
    target: values.target,
    members,
    seed,
    timeSeconds,
    log: (line) => console.error(line),
    ...(workloads === undefined ? {} : { workloads }),
    ...(faults === undefined ? {} : { faults }),
    ...(env === undefined ? {} : { env }),
    ...(values.quiet === undefined ? {} : { quietSeconds: number(values.quiet, 'quiet', 0) }),
    ...(values['work-dir'] === undefined ? {} : { workDir: values['work-dir'] }),
  });
  console.log(formatReport(report));
  return exitCodeOf(report.result);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Usage errors say what is wrong; anything else shows where.
    const usageError = err instanceof Error && err.message.startsWith('chaos: ');
    console.error(err instanceof Error ? (usageError ? err.message : err.stack ?? err.message) : String(err));
    process.exit(2);
  },
);
