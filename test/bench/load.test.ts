// The load generator against a real concord: functional only (no timing assertions) — the
// output parses, the checks pass, and the writes landed in the store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { parseArgs } from '../../bench/load/args.ts';
import { H2LOAD_BIN, parseH2loadOutput, parseLogFile, parseTimes } from '../../bench/load/h2load.ts';
import type { BenchResult } from '../../bench/load/result.ts';
import { runBench } from '../../bench/load/run.ts';
import { currentRevision, keyCount } from '../../bench/load/verify.ts';
import { type ConcordProcess, requireTool, startConcord } from '../integration/concord-process.ts';

const root = join(import.meta.dirname, '..', '..');
let concord: ConcordProcess;

before(async () => {
  concord = await startConcord();
});

after(async () => {
  await concord.stop();
  concord.cleanup();
});

/** Runs `npm run bench`'s entry as a child process with --json and parses what it prints. */
async function benchCli(args: string[]): Promise<{ code: number | null; result: BenchResult }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'load', 'cli.ts'), ...args, '--json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.ok(out.trim().startsWith('{'), `bench printed no JSON (exit ${code}):\n${out}\n${err}`);
  return { code, result: JSON.parse(out) as BenchResult };
}

test('bench - put through h2load: JSON parses and every put landed as one revision', requireTool(H2LOAD_BIN), async () => {
  const before = await currentRevision(concord.endpoint);
  const { code, result } = await benchCli(['--endpoints', concord.endpoint, 'put', '--total', '300', '--in-flight', '16', '--conns', '2']);
  assert.equal(code, 0);
  assert.equal(result.driver, 'h2load');
  assert.equal(result.succeeded, 300);
  assert.equal(result.verified, true);
  assert.ok(result.opsPerSecond > 0);
  assert.ok(result.latencyMs.p50 <= result.latencyMs.p99 && result.latencyMs.p99 <= result.latencyMs.max);
  // 300 puts and the sample put before them.
  assert.equal((await currentRevision(concord.endpoint)) - before, 301);
});

test('bench - lean driver writes distinct keys over the key space', async () => {
  const keysBefore = await keyCount(concord.endpoint, 16);
  const result = await runBench(
    parseArgs(['--endpoints', concord.endpoint, 'put', '--total', '400', '--in-flight', '32', '--conns', '2',
      '--key-space-size', '400', '--sequential-keys', '--key-size', '16', '--val-size', '64']),
  );
  assert.equal(result.driver, 'lean');
  assert.equal(result.verified, true, result.checks.join('\n'));
  assert.equal(result.succeeded, 400);
  assert.equal((await keyCount(concord.endpoint, 16)) - keysBefore, 400);
});

test('bench - range and txn runs pass their checks', async () => {
  for (const args of [
    ['range', '--total', '200', '--in-flight', '8', '--consistency', 's', '--driver', 'lean'],
    ['range', '--total', '200', '--in-flight', '8', '--consistency', 'l', '--driver', 'lean'],
    ['txn', '--total', '200', '--in-flight', '8', '--key-space-size', '50', '--driver', 'lean'],
  ]) {
    const result = await runBench(parseArgs(['--endpoints', concord.endpoint, ...args]));
    assert.equal(result.verified, true, `${args.join(' ')}: ${result.checks.join('\n')}`);
    assert.equal(result.succeeded, 200);
  }
});

test('bench - watch sees every put on every watcher', async () => {
  const result = await runBench(
    parseArgs(['--endpoints', concord.endpoint, 'watch', '--total', '100', '--watchers', '3', '--conns', '2', '--in-flight', '4']),
  );
  assert.equal(result.verified, true, result.checks.join('\n'));
  assert.match(result.checks.join('\n'), /events received: 300 of 300/);
});

test('bench - h2load output, log file and times are parsed', () => {
  const out = [
    'finished in 1.50s, 2000.00 req/s, 69.69KB/s',
    'requests: 3000 total, 3000 started, 3000 done, 2990 succeeded, 10 failed, 0 errored, 0 timeout',
    'status codes: 2990 2xx, 0 3xx, 0 4xx, 0 5xx',
    'traffic: 296.11KB (303215) total, 117.97KB (120803) headers (space savings 96.10%), 97.00KB (99000) data',
  ].join('\n');
  assert.deepEqual(parseH2loadOutput(out), {
    elapsedSeconds: 1.5, done: 3000, succeeded: 2990, failed: 10, errored: 0, timeout: 0, status2xx: 2990, dataBytes: 99000,
  });
  assert.deepEqual([...parseLogFile('1\t200\t1500\n2\t-1\t10\n3\t200\t2500\n')], [1.5, 2.5]);
  assert.equal(parseTimes('0m0.01s 0m0.00s\n0m1.25s 0m0.50s\n'), 1.75);
});

test('bench - arguments: --clients is --conns, unknown flags are refused', () => {
  const o = parseArgs(['--endpoints', 'a:1,b:2', 'range', '--clients', '4', '--in-flight', '64', '--consistency=s']);
  assert.deepEqual(o.endpoints, ['a:1', 'b:2']);
  assert.equal(o.conns, 4);
  assert.equal(o.consistency, 's');
  assert.throws(() => parseArgs(['--endpoints', 'a:1', 'put', '--bogus']), /unknown argument/);
  assert.throws(() => parseArgs(['put']), /--endpoints is required/);
});
