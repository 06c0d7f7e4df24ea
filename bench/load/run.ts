// One benchmark run end to end: pick the driver, check a sample call's grpc-status, run the load,
// then check what h2load cannot see (writes landed: the revision advanced by exactly the number
// of successful puts; every response carried a message).
import { existsSync } from 'node:fs';
import { codec } from '../../src/proto/index.ts';
import { H2LOAD_BIN, runH2load, type H2loadReport } from './h2load.ts';
import { runLeanUnary } from './lean.ts';
import { type BenchResult, percentiles } from './result.ts';
import { currentRevision, unaryOk } from './verify.ts';
import { runWatch } from './watch.ts';
import { type BenchOptions, PATHS, keyOf, unaryBody } from './workload.ts';

/** The driver a run will use. */
export function chooseDriver(o: BenchOptions): 'h2load' | 'lean' {
  if (o.workload === 'watch') return 'lean';
  if (o.driver === 'h2load' && o.keySpaceSize > 1) {
    throw new Error('bench: h2load posts one fixed body; --key-space-size > 1 needs --driver lean');
  }
  if (o.driver !== 'auto') return o.driver;
  return o.keySpaceSize <= 1 && existsSync(H2LOAD_BIN) ? 'h2load' : 'lean';
}

function optionsRecord(o: BenchOptions): Record<string, unknown> {
  const { json: _json, endpoints: _endpoints, ...rest } = o;
  return rest;
}

/** Runs one benchmark. */
export async function runBench(o: BenchOptions): Promise<BenchResult> {
  if (o.workload === 'watch') return runWatchBench(o);
  const driver = chooseDriver(o);
  const body = unaryBody(o);
  const first = o.endpoints[0]!;
  if (o.workload === 'range') {
    // The fixed key exists, so each range returns one key-value, as etcd's range benchmark does.
    const put = codec('etcdserverpb.PutRequest').encodeFrame({ key: keyOf(0, o.keyBytes), value: 'v'.repeat(o.valueBytes) });
    await unaryOk(first, PATHS.put, put);
  }
  const sample = await unaryOk(first, body.path, body.frame);
  const checks = [`sample ${o.workload} on ${first}: grpc-status 0, response ${sample.frameBytes} bytes`];
  const writes = o.workload === 'put' || o.workload === 'txn';
  const revBefore = writes ? await currentRevision(first) : 0;
  const base = {
    workload: o.workload === 'range' ? `range (${o.consistency === 's' ? 'serializable' : 'linearizable'})` : o.workload,
    driver,
    endpoints: o.endpoints,
    total: o.total,
    options: optionsRecord(o),
  };
  let out: { elapsedSeconds: number; done: number; dataBytes: number; latenciesMs: Float64Array; cpuSeconds: number; lostOnWire: number };
  if (driver === 'h2load') {
    const reports = await runH2loadSpread(o, body.path, body.frame);
    out = mergeH2load(reports);
    base.options['h2load'] = reports.map((r) => r.command);
  } else {
    const r = await runLeanUnary(o);
    out = { ...r, done: o.total, lostOnWire: r.failed };
  }
  let succeeded = out.done - out.lostOnWire;
  // Every successful call got a message at least as large as the sample's (revisions only grow).
  const minBytes = succeeded * sample.frameBytes;
  const bytesOk = out.dataBytes >= minBytes;
  checks.push(`response data ${out.dataBytes} bytes ${bytesOk ? '>=' : '<'} ${succeeded} x ${sample.frameBytes}`);
  let verified = bytesOk && out.lostOnWire === 0;
  if (!bytesOk) succeeded = Math.min(succeeded, Math.floor(out.dataBytes / sample.frameBytes));
  if (writes) {
    const delta = (await currentRevision(first)) - revBefore;
    const landed = delta === out.done;
    checks.push(`writes landed: revision advanced by ${delta} for ${out.done} ${o.workload}s${landed ? '' : ' (MISMATCH)'}`);
    verified &&= landed;
    succeeded = Math.min(succeeded, delta);
  }
  return {
    ...base,
    succeeded,
    failed: o.total - succeeded,
    elapsedSeconds: out.elapsedSeconds,
    opsPerSecond: succeeded / out.elapsedSeconds,
    latencyMs: percentiles(out.latenciesMs),
    driverCpuCores: out.cpuSeconds / out.elapsedSeconds,
    checks,
    verified,
  };
}

/** One h2load per endpoint, run at once, the connections and requests split between them. */
async function runH2loadSpread(o: BenchOptions, path: string, frame: Buffer): Promise<H2loadReport[]> {
  const n = Math.min(o.endpoints.length, o.conns);
  const streamsPerConn = Math.max(1, Math.round(o.inFlight / o.conns));
  return Promise.all(
    o.endpoints.slice(0, n).map((endpoint, i) =>
      runH2load({
        endpoint,
        path,
        body: frame,
        conns: Math.floor(o.conns / n) + (i < o.conns % n ? 1 : 0),
        streamsPerConn,
        requests: Math.floor(o.total / n) + (i < o.total % n ? 1 : 0),
      }),
    ),
  );
}

function mergeH2load(reports: H2loadReport[]): {
  elapsedSeconds: number;
  done: number;
  dataBytes: number;
  latenciesMs: Float64Array;
  cpuSeconds: number;
  lostOnWire: number;
} {
  const latencies = new Float64Array(reports.reduce((n, r) => n + r.latenciesMs.length, 0));
  let at = 0;
  for (const r of reports) {
    latencies.set(r.latenciesMs, at);
    at += r.latenciesMs.length;
  }
  const sum = (f: (r: H2loadReport) => number): number => reports.reduce((n, r) => n + f(r), 0);
  return {
    elapsedSeconds: Math.max(...reports.map((r) => r.elapsedSeconds)),
    done: sum((r) => r.done),
    dataBytes: sum((r) => r.dataBytes),
    latenciesMs: latencies,
    cpuSeconds: sum((r) => r.cpuSeconds),
    lostOnWire: sum((r) => r.done - r.status2xx),
  };
}

async function runWatchBench(o: BenchOptions): Promise<BenchResult> {
  const r = await runWatch(o);
  const complete = r.eventsReceived === r.eventsExpected && r.putsSucceeded === o.total;
  return {
    workload: 'watch (put → event latency)',
    driver: 'lean',
    endpoints: o.endpoints,
    total: o.total,
    succeeded: r.putsSucceeded,
    failed: o.total - r.putsSucceeded,
    elapsedSeconds: r.elapsedSeconds,
    opsPerSecond: r.eventsReceived / r.elapsedSeconds,
    latencyMs: percentiles(r.latenciesMs),
    driverCpuCores: r.cpuSeconds / r.elapsedSeconds,
    checks: [
      `puts answered with a message: ${r.putsSucceeded} of ${o.total}`,
      `events received: ${r.eventsReceived} of ${r.eventsExpected} (${o.watchers} watchers)`,
    ],
    verified: complete,
    options: optionsRecord(o),
  };
}
