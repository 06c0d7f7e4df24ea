// The sequential specification of the key-value store the simulator and chaos tests drive: one
// register per key (a value, or null when absent), so histories partition by key. Gets whose
// outcome is unknown are dropped when partitioning: they observe nothing and change nothing.
import type { Model, Operation } from './linearizability.ts';

/** A client request against one key; a cas with `expected: null` succeeds only on an absent key. */
export type KvInput =
  | { op: 'get'; key: string }
  | { op: 'put'; key: string; value: string }
  | { op: 'cas'; key: string; expected: string | null; value: string }
  | { op: 'delete'; key: string };

/** What a get observed: the value, or null for an absent key. */
export interface KvGetOutput {
  value: string | null;
}
/** Whether a cas succeeded (and so wrote its value). */
export interface KvCasOutput {
  ok: boolean;
}
/** A delete's answer; `deleted`, when the client knows it, says whether the key existed. */
export interface KvDeleteOutput {
  deleted?: boolean;
}
/** A put carries no observation. */
export type KvPutOutput = Record<string, never>;

/** The response to a KvInput; which shape applies follows from the input's `op`. */
export type KvOutput = KvGetOutput | KvCasOutput | KvDeleteOutput | KvPutOutput;

/** A key's value, or null when the key is absent. */
export type KvState = string | null;

/** A history operation on the key-value store. */
export type KvOperation = Operation<KvInput, KvOutput>;

function outputField<T>(output: KvOutput, field: string, input: KvInput): T {
  if (!(field in output)) {
    throw new Error(`kv-model: ${input.op} output ${JSON.stringify(output)} has no "${field}"`);
  }
  return (output as Record<string, unknown>)[field] as T;
}

function step(
  state: KvState,
  input: KvInput,
  output: KvOutput | undefined,
): { ok: boolean; state: KvState } {
  switch (input.op) {
    case 'get':
      if (output === undefined) return { ok: true, state };
      return { ok: outputField<KvState>(output, 'value', input) === state, state };
    case 'put':
      return { ok: true, state: input.value };
    case 'delete': {
      const deleted = output === undefined ? undefined : (output as KvDeleteOutput).deleted;
      return { ok: deleted === undefined || deleted === (state !== null), state: null };
    }
    case 'cas': {
      // A cas that takes effect has a determined result; one that never takes effect is
      // placed after every other operation by the checker, so it need not be modelled here.
      const succeeds = state === input.expected;
      const ok = output === undefined || outputField<boolean>(output, 'ok', input) === succeeds;
      return { ok, state: succeeds ? input.value : state };
    }
  }
}

function partitionByKey(history: KvOperation[]): KvOperation[][] {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) {
    if (op.input.op === 'get' && op.output === undefined) continue;
    let ops = byKey.get(op.input.key);
    if (ops === undefined) byKey.set(op.input.key, (ops = []));
    ops.push(op);
  }
  return [...byKey.values()];
}

const quote = (value: string | null): string => (value === null ? 'null' : JSON.stringify(value));

function describeOperation(input: KvInput, output: KvOutput | undefined): string {
  const key = JSON.stringify(input.key);
  const result = (shown: string): string => (output === undefined ? ' -> ?' : shown);
  switch (input.op) {
    case 'get': {
      const value = output === undefined ? null : (output as KvGetOutput).value;
      return `get(${key})${result(` -> ${quote(value)}`)}`;
    }
    case 'put':
      return `put(${key}, ${quote(input.value)})${result('')}`;
    case 'delete': {
      const deleted = output === undefined ? undefined : (output as KvDeleteOutput).deleted;
      return `delete(${key})${result(deleted === undefined ? '' : ` -> deleted=${deleted}`)}`;
    }
    case 'cas': {
      const ok = output === undefined ? false : (output as KvCasOutput).ok;
      return `cas(${key}, ${quote(input.expected)} => ${quote(input.value)})` +
        result(ok ? ' -> ok' : ' -> failed');
    }
  }
}

/** The per-key register model: partitioned by key, state = that key's value. */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => null,
  step,
  partition: partitionByKey,
  // The prefix keeps null apart from every string, including the empty one.
  stateKey: (state) => (state === null ? '' : `=${state}`),
  describePartition: (partition) => `key ${JSON.stringify(partition[0]?.input.key ?? '')}`,
  describeOperation,
  describeState: (state) => (state === null ? 'absent' : JSON.stringify(state)),
};
