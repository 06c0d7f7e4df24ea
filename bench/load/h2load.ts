// Drives h2load (nghttp2-client): a C load generator that costs a fraction of the server it
// measures. It posts one fixed gRPC body, so every request is identical (one key). Its own report
// counts HTTP statuses only; the caller checks gRPC outcomes (verify.ts). Latencies come from its
// --log-file (one line per request: start µs, HTTP status, duration µs).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's nghttp2-client installs it. */
export const H2LOAD_BIN = process.env['H2LOAD'] ?? '/usr/bin/h2load';

/** One h2load run against one endpoint. */
export interface H2loadRun {
  endpoint: string;
  path: string;
  body: Buffer;
  requests: number;
  conns: number;
  streamsPerConn: number;
}

/** What one run reported. */
export interface H2loadReport {
  elapsedSeconds: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
  status2xx: number;
  /** DATA payload bytes received (every successful gRPC call receives a message). */
  dataBytes: number;
  /** Per-request latency in ms. */
  latenciesMs: Float64Array;
  /** h2load's own user+system CPU seconds. */
  cpuSeconds: number;
  /** The command line, for the record. */
  command: string;
}

/** The command line of a run (exact, to print). */
export function h2loadArgs(run: H2loadRun, bodyPath: string, logPath?: string): string[] {
  return [
    '-n', String(run.requests),
    '-c', String(run.conns),
    '-m', String(run.streamsPerConn),
    '-H', 'content-type: application/grpc',
    '-H', 'te: trailers',
    '-d', bodyPath,
    ...(logPath === undefined ? [] : ['--log-file', logPath]),
    `http://${run.endpoint}${run.path}`,
  ];
}

/** Runs h2load and parses its report. */
export async function runH2load(run: H2loadRun): Promise<H2loadReport> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-bench-'));
  try {
    const bodyPath = join(dir, 'body.bin');
    const logPath = join(dir, 'requests.tsv');
    writeFileSync(bodyPath, run.body);
    const args = h2loadArgs(run, bodyPath, logPath);
    // `times` after h2load prints the shell's children's CPU: h2load's own cost.
    const { stdout, stderr, code } = await exec('/bin/sh', ['-c', `"$0" "$@"; rc=$?; times >&2; exit $rc`, H2LOAD_BIN, ...args]);
    if (code !== 0) throw new Error(`bench: h2load exited with ${code}:\n${stdout}\n${stderr}`);
    const report = parseH2loadOutput(stdout);
    const quoted = args.map((a) => (/[\s']/.test(a) ? `'${a}'` : a));
    return {
      ...report,
      latenciesMs: parseLogFile(readFileSync(logPath, 'utf8')),
      cpuSeconds: parseTimes(stderr),
      command: `h2load ${quoted.join(' ')}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses h2load's summary (stdout). */
export function parseH2loadOutput(out: string): Omit<H2loadReport, 'latenciesMs' | 'cpuSeconds' | 'command'> {
  const finished = /finished in ([\d.]+)(ms|s),/.exec(out);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const status = /status codes: (\d+) 2xx/.exec(out);
  const traffic = /traffic: .*\((\d+)\) data/.exec(out);
  if (finished === null || requests === null || status === null || traffic === null) {
    throw new Error(`bench: cannot parse h2load output:\n${out}`);
  }
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  return {
    elapsedSeconds: seconds,
    done: Number(requests[3]),
    succeeded: Number(requests[4]),
    failed: Number(requests[5]),
    errored: Number(requests[6]),
    timeout: Number(requests[7]),
    status2xx: Number(status[1]),
    dataBytes: Number(traffic[1]),
  };
}

/** Durations (third column, µs) of h2load's --log-file, in ms; failed streams (-1) left out. */
export function parseLogFile(text: string): Float64Array {
  const lines = text.split('\n');
  const out = new Float64Array(lines.length);
  let n = 0;
  for (const line of lines) {
    const cols = line.split('\t');
    if (cols.length < 3 || cols[1] === '-1') continue;
    out[n++] = Number(cols[2]) / 1000;
  }
  return out.subarray(0, n);
}

/** Children's user+system seconds from the shell's `times` (last line: "0m1.23s 0m0.45s"). */
export function parseTimes(stderr: string): number {
  const all = [...stderr.matchAll(/(\d+)m([\d.]+)s/g)];
  if (all.length < 2) return 0;
  return all.slice(-2).reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
}

async function exec(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ stdout, stderr, code }));
  });
}
