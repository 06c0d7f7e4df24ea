// A run's result: throughput, latency percentiles, what was verified, and what the driver cost;
// printed as text or JSON.

/** Latency percentiles in milliseconds. */
export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** The outcome of one run. */
export interface BenchResult {
  workload: string;
  /** h2load or lean. */
  driver: string;
  endpoints: string[];
  total: number;
  /** Requests that got a gRPC response message (a unary error is trailers-only). */
  succeeded: number;
  failed: number;
  elapsedSeconds: number;
  opsPerSecond: number;
  latencyMs: Latency;
  /** CPU the driver used, in cores (CPU seconds / wall seconds). */
  driverCpuCores: number;
  /** Checks made beside h2load's HTTP status: sample grpc-status, writes landed, bytes. */
  checks: string[];
  /** True when every check passed. */
  verified: boolean;
  options: Record<string, unknown>;
}

/** Percentiles of latencies in ms (sorts the array in place). */
export function percentiles(samples: Float64Array): Latency {
  if (samples.length === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  samples.sort();
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  let sum = 0;
  for (const s of samples) sum += s;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: samples[samples.length - 1]!,
    mean: sum / samples.length,
  };
}

function ms(v: number): string {
  return v >= 100 ? `${v.toFixed(0)}ms` : v >= 10 ? `${v.toFixed(1)}ms` : `${v.toFixed(2)}ms`;
}

/** The text report. */
export function formatResult(r: BenchResult): string {
  const l = r.latencyMs;
  return [
    `${r.workload} via ${r.driver} against ${r.endpoints.join(',')}`,
    `  requests:   ${r.succeeded} ok, ${r.failed} failed of ${r.total} in ${r.elapsedSeconds.toFixed(2)}s`,
    `  throughput: ${Math.round(r.opsPerSecond)} ops/s`,
    `  latency:    p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}  mean ${ms(l.mean)}`,
    `  driver cpu: ${r.driverCpuCores.toFixed(2)} cores`,
    `  checks:     ${r.verified ? 'all passed' : 'FAILED'}`,
    ...r.checks.map((c) => `    - ${c}`),
  ].join('\n');
}
