// What every workload is: workers that run operations against the cluster through the gRPC API
// until told to stop, recording each in the history, then final reads and a checker verdict.
// Shared here: the context a workload runs in and the small helpers its workers use.
import type { SeededRng } from '../../../src/util/rng.ts';
import type { FaultWindow } from '../checkers/lease.ts';
import type { Verdict } from '../checkers/verdict.ts';
import { classifyError, errorText } from '../client/errors.ts';
import { EtcdClient, type Session } from '../client/rpc.ts';
import type { History, Pending } from '../history.ts';

/** The names of the workloads. */
export const WORKLOAD_NAMES = ['register', 'append', 'watch', 'lease'] as const;
/** One of WORKLOAD_NAMES. */
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** What a workload runs with. */
export interface WorkloadContext {
  history: History;
  /** The members' client endpoints (host:port), current. */
  endpoints(): string[];
  /** The workload's own random stream. */
  rng: SeededRng;
  /** Aborted when the workers must stop (before the final reads). */
  signal: AbortSignal;
  /** A fresh worker (process) id. */
  nextProcess(): number;
  /** Every key the workload writes starts with this. */
  prefix: string;
  log(line: string): void;
}

/** What the checkers get besides the history. */
export interface CheckContext {
  /** When faults were in effect (for bounds that depend on a leader being there). */
  faults: FaultWindow[];
  /** Budget of any search, in ms. */
  checkTimeoutMs: number;
  /** Where a checker may leave what it compared (beside history.jsonl). */
  workDir: string;
  /** Known bugs of the target the checkers tolerate (see checkers/lease.ts). */
  staleLeaderRenewals: 'tolerated' | 'violation';
}

/** A workload. */
export interface Workload {
  readonly name: WorkloadName;
  /** Runs the workers until ctx.signal aborts; resolves once every worker has stopped. */
  run(ctx: WorkloadContext): Promise<void>;
  /** Final reads (recorded in the history), then the verdict. */
  check(ctx: WorkloadContext, check: CheckContext): Promise<Verdict>;
}

/** Bytes to text. */
export const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Completes `pending` from a call's error: `failed` when the error proves the request had no
 * effect, else `unknown`. Either way the session reconnects to the next endpoint.
 */
export function settleError<I, O>(pending: Pending<I, O>, err: unknown, session: Session): void {
  const c = classifyError(err);
  if (c.outcome === 'failed') pending.failed(c.message);
  else pending.unknown(c.message);
  session.failover();
}

/**
 * Calls `fn` on member after member until it succeeds (for the final reads, which must
 * happen), up to `timeoutMs`.
 */
export async function untilOk<T>(
  ctx: WorkloadContext,
  what: string,
  fn: (client: EtcdClient) => Promise<T>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    const endpoints = ctx.endpoints();
    const client = new EtcdClient(endpoints[attempt % endpoints.length]!, { timeoutMs: 5_000 });
    try {
      return await fn(client);
    } catch (err) {
      last = err;
    } finally {
      client.close();
    }
    await sleep(200);
  }
  throw new Error(`chaos: ${what} did not succeed within ${timeoutMs / 1000} s: ${errorText(last)}`);
}

/** Runs `n` workers and resolves when all have returned. */
export async function runWorkers(n: number, worker: (i: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => worker(i)));
}
