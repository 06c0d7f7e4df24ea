// The record of every client operation of a chaos run: who invoked it (workload, worker), when it
// was invoked and when it completed (milliseconds on the run's monotonic clock), what it asked and
// how it ended. Outcomes are three-valued, as Jepsen's are:
//   ok       it happened, and `output` says what it observed;
//   failed   it definitely did not take effect (a failed compare, an error that proves the
//            request never reached a member or was refused before it was proposed);
//   unknown  it may or may not have taken effect (timeout, connection lost): its completion is
//            +∞ for the checkers, it may take effect at any moment after its invocation.
import { writeFileSync } from 'node:fs';

/** How an operation ended. */
export type Outcome = 'ok' | 'failed' | 'unknown';

/** One operation. `completeMs` is Infinity while pending and for an `unknown` outcome. */
export interface HistoryEntry<I = unknown, O = unknown> {
  /** Position in the history, in order of invocation. */
  index: number;
  workload: string;
  /** The worker (a logical client process) that ran it; a worker runs one operation at a time. */
  process: number;
  /** host:port the request was sent to ('' when it was not sent to one member). */
  endpoint: string;
  invokeMs: number;
  completeMs: number;
  input: I;
  outcome: Outcome;
  output?: O;
  /** The error that ended it (failed or unknown). */
  error?: string;
  /** When the client gave up on an unknown operation (its timeout or connection loss). */
  gaveUpMs?: number;
}

/** A clock in milliseconds, monotonic, starting near zero for the run. */
export type Clock = () => number;

/** A monotonic clock relative to its creation (performance.now based). */
export function monotonicClock(): Clock {
  const origin = performance.now();
  return () => performance.now() - origin;
}

/** The handle of an invoked operation; complete it exactly once. */
export interface Pending<I, O> {
  readonly entry: HistoryEntry<I, O>;
  ok(output: O): void;
  failed(error: string, output?: O): void;
  unknown(error: string): void;
}

/** Records operations of many concurrent workers. */
export class History {
  readonly #entries: HistoryEntry[] = [];
  readonly #clock: Clock;

  constructor(clock: Clock = monotonicClock()) {
    this.#clock = clock;
  }

  /** Now, on the history's clock. */
  now(): number {
    return this.#clock();
  }

  /** Records the invocation of an operation and returns the handle that completes it. */
  invoke<I, O>(
    workload: string,
    process: number,
    input: I,
    options: { endpoint?: string } = {},
  ): Pending<I, O> {
    const entry: HistoryEntry<I, O> = {
      index: this.#entries.length,
      workload,
      process,
      endpoint: options.endpoint ?? '',
      invokeMs: this.#clock(),
      completeMs: Infinity,
      input,
      outcome: 'unknown',
    };
    this.#entries.push(entry as HistoryEntry);
    let done = false;
    const finish = (outcome: Outcome): boolean => {
      if (done) throw new Error(`history: operation #${entry.index} completed twice`);
      done = true;
      entry.outcome = outcome;
      return true;
    };
    return {
      entry,
      ok: (output) => {
        finish('ok');
        entry.completeMs = this.#clock();
        entry.output = output;
      },
      failed: (error, output) => {
        finish('failed');
        entry.completeMs = this.#clock();
        entry.error = error;
        if (output !== undefined) entry.output = output;
      },
      unknown: (error) => {
        finish('unknown');
        entry.gaveUpMs = this.#clock();
        entry.error = error;
      },
    };
  }

  /** Every operation so far (pending ones are `unknown` with completeMs Infinity). */
  entries(): readonly HistoryEntry[] {
    return this.#entries;
  }

  /** The operations of one workload. */
  of<I, O>(workload: string): HistoryEntry<I, O>[] {
    return this.#entries.filter((e) => e.workload === workload) as HistoryEntry<I, O>[];
  }

  /** Writes the history as JSON lines (bigints as strings, Infinity as null). */
  save(path: string): void {
    const lines = this.#entries.map((e) => JSON.stringify(e, jsonReplacer));
    writeFileSync(path, lines.join('\n') + '\n');
  }
}

/** JSON.stringify replacer for histories: bigint → decimal string, Infinity → null. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === Infinity) return null;
  return value;
}

/** Counts of outcomes, for reports. */
export type OutcomeCounts = Record<Outcome, number>;

/** Outcome counts per workload. */
export function countOutcomes(entries: readonly HistoryEntry[]): Map<string, OutcomeCounts> {
  const counts = new Map<string, OutcomeCounts>();
  for (const e of entries) {
    let c = counts.get(e.workload);
    if (c === undefined) counts.set(e.workload, (c = { ok: 0, failed: 0, unknown: 0 }));
    c[e.outcome]++;
  }
  return counts;
}

/** One line per operation for violation windows: `#12 p3 [100.2, 140.9] put(...) ok`. */
export function describeEntry(
  entry: HistoryEntry,
  describeInput?: (e: HistoryEntry) => string,
): string {
  const end = entry.completeMs === Infinity ? '∞)' : `${entry.completeMs.toFixed(1)}]`;
  const body = describeInput?.(entry) ?? `${JSON.stringify(entry.input, jsonReplacer)}`;
  const result = entry.outcome === 'ok'
    ? `ok ${JSON.stringify(entry.output ?? null, jsonReplacer)}`
    : `${entry.outcome}${entry.error === undefined ? '' : ` (${entry.error})`}`;
  const at = entry.endpoint === '' ? '' : ` @${entry.endpoint}`;
  return `#${entry.index} ${entry.workload} p${entry.process}${at} ` +
    `[${entry.invokeMs.toFixed(1)}, ${end} ${body} → ${result}`;
}
