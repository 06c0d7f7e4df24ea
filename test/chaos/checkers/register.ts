// The register workload's checker: each key is a read/write/compare-and-set register, and its
// history (final reads included) must be linearizable. The search is the project's checker
// (test/sim/checkers/linearizability.ts) with the per-key register model of kv-model.ts; an
// unknown write or cas is an operation that never returns (it may take effect at any moment
// after its invocation, or never), a failed one is left out, a cas whose compare failed is an
// observation ("the value was not `expected`").
import { checkOperations } from '../../sim/checkers/linearizability.ts';
import { type KvInput, type KvOperation, type KvOutput, kvModel } from '../../sim/checkers/kv-model.ts';
import type { Model } from '../../sim/checkers/linearizability.ts';
import type { HistoryEntry } from '../history.ts';
import { type Verdict, verdictOf } from './verdict.ts';

/** A register operation as the workload records it. Values are unique per write, so a cas on
 * a mod revision (read earlier with the value `expected`) is a cas on that value. */
export type RegisterInput =
  | { op: 'read'; key: string }
  | { op: 'write'; key: string; value: string }
  | {
    op: 'cas';
    key: string;
    expected: string | null;
    value: string;
    by: 'value' | 'mod-revision';
    modRevision?: number;
  };

/** What a register operation observed: a read's value, a cas's compare result. */
export interface RegisterOutput {
  value?: string | null;
  succeeded?: boolean;
  /** The revision of the response header. */
  revision?: number;
}

/** A register history entry. */
export type RegisterEntry = HistoryEntry<RegisterInput, RegisterOutput>;

/** Options of checkRegister. */
export interface RegisterCheckOptions {
  /** Budget of the linearizability search for the whole history, in ms (default 60 s). */
  timeoutMs?: number;
}

/** Checks a register history for linearizability, per key. */
export function checkRegister(
  entries: readonly RegisterEntry[],
  options: RegisterCheckOptions = {},
): Verdict {
  const source = new Map<KvInput, RegisterEntry>();
  const ops: KvOperation[] = [];
  for (const entry of entries) {
    const op = toOperation(entry);
    if (op === undefined) continue;
    source.set(op.input, entry);
    ops.push(op);
  }
  const model: Model<string | null, KvInput, KvOutput> = {
    ...kvModel,
    describeOperation: (input, output) => {
      const entry = source.get(input);
      const where = entry === undefined ? '' : ` (op #${entry.index} @${entry.endpoint || '?'})`;
      return `${kvModel.describeOperation!(input, output)}${where}`;
    },
  };
  const report = checkOperations(model, ops, { timeoutMs: options.timeoutMs ?? 60_000 });
  const keys = new Set(ops.map((o) => o.input.key)).size;
  const okSummary = `${ops.length} operations on ${keys} keys are linearizable`;
  if (report.result === 'illegal') {
    const text = report.describe().split('\n');
    const details = report.details as { window?: { operation: KvOperation }[] } | undefined;
    const times = (details?.window ?? []).flatMap((w) => [w.operation.call, w.operation.return])
      .filter((t) => Number.isFinite(t));
    return verdictOf('register', okSummary, [{
      kind: 'not-linearizable',
      message: text[0] ?? 'not linearizable',
      window: text.slice(1),
      ...(times.length > 0 ? { fromMs: Math.min(...times), toMs: Math.max(...times) } : {}),
    }]);
  }
  if (report.result === 'unknown') return verdictOf('register', okSummary, [], report.describe());
  return verdictOf('register', okSummary, []);
}

function toOperation(entry: RegisterEntry): KvOperation | undefined {
  const { input, outcome, output } = entry;
  // Times to 0.1 ms, widened (call down, return up): shorter reports, never a false violation.
  const base = { clientId: entry.process, call: Math.floor(entry.invokeMs * 10) / 10 };
  const completeMs = Math.ceil(entry.completeMs * 10) / 10;
  switch (input.op) {
    case 'read':
      // A read that did not answer observed nothing.
      if (outcome !== 'ok' || output?.value === undefined) return undefined;
      return {
        ...base, input: { op: 'get', key: input.key }, return: completeMs, output: { value: output.value },
      };
    case 'write': {
      const kv: KvInput = { op: 'put', key: input.key, value: input.value };
      if (outcome === 'failed') return undefined;
      if (outcome === 'unknown') return { ...base, input: kv, return: Infinity, output: undefined };
      return { ...base, input: kv, return: completeMs, output: {} };
    }
    case 'cas': {
      const kv: KvInput = { op: 'cas', key: input.key, expected: input.expected, value: input.value };
      if (outcome === 'unknown') return { ...base, input: kv, return: Infinity, output: undefined };
      if (outcome === 'failed' && output?.succeeded !== false) return undefined;
      return { ...base, input: kv, return: completeMs, output: { ok: output?.succeeded === true } };
    }
  }
}
