// `npm run bench -- --endpoints HOST:PORT[,...] <put|range|txn|watch> [options]`: a load generator
// for any etcd-compatible endpoint (concord or etcd). Unary load with one fixed key is driven by
// h2load; varying keys (--key-space-size > 1) and watch by a lean raw-HTTP/2 client.
import { formatResult } from './result.ts';
import { runBench } from './run.ts';
import { USAGE, parseArgs } from './args.ts';
import type { BenchOptions } from './workload.ts';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const result = await runBench(options);
  process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatResult(result)}\n`);
  return result.verified ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
