// Specifications of the linearizability checker on the key-value register model: hand-written
// histories that are and are not linearizable, randomized histories generated from a real
// sequential execution (and then corrupted), and bounds on time for large histories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../src/util/rng.ts';
import { checkOperations, type IllegalDetails } from './linearizability.ts';
import { kvModel, type KvInput, type KvOperation, type KvOutput } from './kv-model.ts';

type Window = [call: number, ret: number];

function op(clientId: number, [call, ret]: Window, input: KvInput, output: KvOutput): KvOperation {
  // A window that never closes is an unknown outcome: the output was never seen.
  return { clientId, input, call, return: ret, output: ret === Infinity ? undefined : output };
}
const put = (c: number, w: Window, key: string, value: string): KvOperation =>
  op(c, w, { op: 'put', key, value }, {});
const get = (c: number, w: Window, key: string, value: string | null): KvOperation =>
  op(c, w, { op: 'get', key }, { value });
const del = (c: number, w: Window, key: string): KvOperation => op(c, w, { op: 'delete', key }, {});
const cas = (
  c: number,
  w: Window,
  key: string,
  swap: [expected: string | null, value: string],
  ok: boolean,
): KvOperation => op(c, w, { op: 'cas', key, expected: swap[0], value: swap[1] }, { ok });

const check = (history: KvOperation[]): string => checkOperations(kvModel, history).result;

test('linearizability - a sequential history of every operation kind is ok', () => {
  const history = [
    get(1, [0, 1], 'x', null),
    put(1, [2, 3], 'x', 'a'),
    get(2, [4, 5], 'x', 'a'),
    cas(1, [6, 7], 'x', ['a', 'b'], true),
    cas(2, [8, 9], 'x', ['a', 'c'], false),
    get(1, [10, 11], 'x', 'b'),
    del(2, [12, 13], 'x'),
    get(1, [14, 15], 'x', null),
    cas(2, [16, 17], 'x', [null, 'd'], true),
    get(1, [18, 19], 'x', 'd'),
  ];
  assert.equal(check(history), 'ok');
});

test('linearizability - an empty history is ok', () => {
  assert.equal(check([]), 'ok');
});

test('linearizability - reads after overlapping writes may see either write', () => {
  for (const seen of ['1', '2']) {
    const history = [
      put(1, [0, 10], 'x', '1'),
      put(2, [2, 12], 'x', '2'),
      get(3, [5, 6], 'x', null),
      get(3, [20, 21], 'x', seen),
      get(4, [22, 23], 'x', seen),
    ];
    assert.equal(check(history), 'ok', `reads see ${seen}`);
  }
});

test('linearizability - reads concurrent with a write may flip from old to new once', () => {
  const history = [
    put(1, [0, 1], 'x', 'old'),
    put(1, [10, 50], 'x', 'new'),
    get(2, [11, 12], 'x', 'old'),
    get(3, [13, 14], 'x', 'new'),
    get(2, [15, 16], 'x', 'new'),
  ];
  assert.equal(check(history), 'ok');
});

test('linearizability - operations that touch at one instant count as overlapping', () => {
  const history = [put(1, [0, 5], 'x', 'a'), get(2, [5, 6], 'x', null)];
  assert.equal(check(history), 'ok');
});

test('linearizability - an unknown-outcome write may be seen or never seen', () => {
  const seen = [put(1, [0, Infinity], 'x', 'a'), get(2, [5, 6], 'x', 'a')];
  const unseen = [put(1, [0, Infinity], 'x', 'a'), get(2, [5, 6], 'x', null)];
  const seenLate = [
    put(1, [0, Infinity], 'x', 'a'),
    get(2, [5, 6], 'x', null),
    get(2, [100, 101], 'x', 'a'),
  ];
  assert.equal(check(seen), 'ok');
  assert.equal(check(unseen), 'ok');
  assert.equal(check(seenLate), 'ok');
});

test('linearizability - an unknown-outcome write cannot be seen and then unseen', () => {
  const history = [
    put(1, [0, Infinity], 'x', 'a'),
    get(2, [5, 6], 'x', 'a'),
    get(2, [7, 8], 'x', null),
  ];
  assert.equal(check(history), 'illegal');
});

test('linearizability - many unknown-outcome writes pass whether or not they landed', () => {
  const history: KvOperation[] = [];
  for (let i = 0; i < 40; i++) history.push(put(i, [i * 10, Infinity], 'x', `lost${i}`));
  history.push(put(99, [500, 501], 'x', 'final'), get(99, [502, 503], 'x', 'final'));
  history.push(get(98, [600, 601], 'x', 'lost7'));
  assert.equal(check(history), 'ok');
});

test('linearizability - an overwritten unknown-outcome write still explains a failed cas', () => {
  const history = [
    put(1, [0, 1], 'x', 'a'),
    put(2, [2, Infinity], 'x', 'v'),
    cas(3, [3, 4], 'x', ['a', 'b'], false),
    put(1, [5, 6], 'x', 'c'),
    get(3, [7, 8], 'x', 'c'),
  ];
  assert.equal(check(history), 'ok');
});

test('linearizability - many unknown-outcome cas and deletes that change nothing are cheap', () => {
  const history: KvOperation[] = [];
  for (let i = 0; i < 60; i++) {
    history.push(cas(i, [i, Infinity], 'x', [`never${i}`, `w${i}`], true));
    history.push(del(100 + i, [i, Infinity], 'x'));
  }
  history.push(put(1, [100, 101], 'x', 'a'), get(2, [102, 103], 'x', 'a'));
  assert.equal(checkOperations(kvModel, history, { stepsMax: 1_000_000 }).result, 'ok');
  history.push(get(2, [104, 105], 'x', 'ghost'));
  assert.equal(checkOperations(kvModel, history, { stepsMax: 1_000_000 }).result, 'illegal');
});

test('linearizability - an unknown-outcome cas takes effect only if it would succeed', () => {
  const landed = [
    put(1, [0, 1], 'x', 'a'),
    cas(2, [2, Infinity], 'x', ['a', 'b'], true),
    get(1, [10, 11], 'x', 'b'),
  ];
  const cannotLand = [
    put(1, [0, 1], 'x', 'z'),
    cas(2, [2, Infinity], 'x', ['a', 'b'], true),
    get(1, [10, 11], 'x', 'b'),
  ];
  assert.equal(check(landed), 'ok');
  assert.equal(check(cannotLand), 'illegal');
});

test('linearizability - a cas may succeed or fail against a concurrent write', () => {
  for (const ok of [true, false]) {
    const history = [
      put(1, [0, 1], 'x', 'a'),
      put(2, [5, 20], 'x', 'z'),
      cas(3, [6, 19], 'x', ['a', 'b'], ok),
      get(1, [30, 31], 'x', 'z'),
    ];
    assert.equal(check(history), 'ok', `cas ${ok ? 'succeeds' : 'fails'}`);
  }
});

test('linearizability - a stale read after a completed write is illegal', () => {
  const history = [put(1, [0, 1], 'x', '1'), put(1, [2, 3], 'x', '2'), get(2, [4, 5], 'x', '1')];
  assert.equal(check(history), 'illegal');
});

test('linearizability - a read of a value never written is illegal', () => {
  const history = [put(1, [0, 10], 'x', '1'), get(2, [1, 9], 'x', 'ghost')];
  assert.equal(check(history), 'illegal');
});

test('linearizability - two readers observing writes in opposite orders is illegal', () => {
  const history = [
    put(1, [0, 100], 'x', '1'),
    put(2, [0, 100], 'x', '2'),
    get(3, [10, 20], 'x', '1'),
    get(3, [30, 40], 'x', '2'),
    get(4, [10, 20], 'x', '2'),
    get(4, [30, 40], 'x', '1'),
  ];
  assert.equal(check(history), 'illegal');
});

test('linearizability - a failed cas that should have succeeded is illegal', () => {
  const history = [put(1, [0, 1], 'x', 'a'), cas(2, [2, 3], 'x', ['a', 'b'], false)];
  assert.equal(check(history), 'illegal');
});

test('linearizability - a successful cas against the wrong value is illegal', () => {
  const history = [put(1, [0, 1], 'x', 'a'), cas(2, [2, 3], 'x', [null, 'b'], true)];
  assert.equal(check(history), 'illegal');
});

test('linearizability - a lost acknowledged write is illegal', () => {
  const history = [
    put(1, [0, 1], 'x', 'a'),
    put(2, [0, Infinity], 'y', 'b'),
    get(3, [10, 11], 'x', null),
  ];
  assert.equal(check(history), 'illegal');
});

test('linearizability - a delete that reports a missing key when it existed is illegal', () => {
  const history = [
    put(1, [0, 1], 'x', 'a'),
    op(2, [2, 3], { op: 'delete', key: 'x' }, { deleted: false }),
  ];
  assert.equal(check(history), 'illegal');
});

test('linearizability - each key is checked on its own and the bad key is the one reported', () => {
  const history = [
    put(1, [0, 1], 'a', '1'),
    put(1, [2, 3], 'b', '1'),
    get(2, [4, 5], 'a', '1'),
    put(1, [6, 7], 'b', '2'),
    get(2, [8, 9], 'b', '1'),
    get(3, [10, 11], 'a', '1'),
  ];
  const report = checkOperations(kvModel, history);
  assert.equal(report.result, 'illegal');
  assert.equal(report.partitionCount, 2);
  const details = report.details as IllegalDetails<KvInput, KvOutput>;
  assert.equal(details.partitionLabel, 'key "b"');
  assert.equal(details.firstUnlinearizable, history[4]);
});

test('linearizability - the report of an illegal history names the key and its operations', () => {
  const history = [
    put(1, [0, 1], 'x', '1'),
    put(2, [2, 3], 'x', '2'),
    get(3, [4, 5], 'x', '1'),
    get(3, [6, 7], 'x', '2'),
  ];
  const report = checkOperations(kvModel, history);
  assert.equal(report.result, 'illegal');
  const details = report.details as IllegalDetails<KvInput, KvOutput>;
  assert.deepEqual(details.longestPrefix, [history[0], history[1]]);
  assert.equal(details.stateAfterPrefix, '"2"');
  assert.equal(details.firstUnlinearizable, history[2]);
  const text = report.describe();
  assert.match(text, /^illegal: key "x" is not linearizable/);
  assert.match(text, /longest linearizable prefix: 2 of 4 operations, leaving state "2"/);
  assert.match(text, /could not be linearized:\n {2}#2 client 3 \[4, 5\] get\("x"\) -> "1"/);
  assert.match(text, /#1 client 2 \[2, 3\] put\("x", "2"\)/);
  assert.match(text, /> +- +#2 client 3/);
});

test('linearizability - unknown-outcome operations show an open window in reports', () => {
  const history = [
    put(1, [0, Infinity], 'x', 'a'),
    get(2, [5, 6], 'x', 'a'),
    get(2, [7, 8], 'x', null),
  ];
  const text = checkOperations(kvModel, history).describe();
  assert.match(text, /#0 client 1 \[0, ∞\) put\("x", "a"\) -> \?/);
});

/** Two dozen writes all concurrent, then a read no order explains: exponential to refute. */
function hardIllegalHistory(): KvOperation[] {
  const history: KvOperation[] = [];
  for (let i = 0; i < 24; i++) history.push(put(i, [0, 100], 'x', `v${i}`));
  history.push(get(99, [200, 201], 'x', 'ghost'));
  return history;
}

test('linearizability - a search past its time budget answers unknown instead of hanging', () => {
  const report = checkOperations(kvModel, hardIllegalHistory(), { timeoutMs: 200 });
  assert.equal(report.result, 'unknown');
  assert.match(report.describe(), /ran out of time in key "x"/);
});

test('linearizability - a step budget makes an unknown answer deterministic', () => {
  const report = checkOperations(kvModel, hardIllegalHistory(), { stepsMax: 50_000 });
  assert.equal(report.result, 'unknown');
  assert.deepEqual(report.details, {
    partitionIndex: 0,
    partitionLabel: 'key "x"',
    operationCount: 25,
    reason: 'steps',
  });
});

test('linearizability - an illegal key outranks a key whose check ran out of budget', () => {
  const history = [...hardIllegalHistory(), put(1, [0, 1], 'y', 'a'), get(2, [2, 3], 'y', null)];
  const report = checkOperations(kvModel, history, { stepsMax: 50_000 });
  assert.equal(report.result, 'illegal');
  assert.match(report.describe(), /key "y"/);
});

interface GenerateOptions {
  clients: number;
  keys: number;
  opsPerClient: number;
  unknownRate: number;
}

/**
 * A history that is linearizable by construction: each operation gets a linearization point
 * inside its [call, return] window, the points are executed in order against a real map, and
 * the outputs recorded. Unknown-outcome operations take effect or not at random.
 */
function generateHistory(rng: SeededRng, options: GenerateOptions): KvOperation[] {
  const planned: { op: KvOperation; at: number; lands: boolean }[] = [];
  const written = new Map<string, string[]>();
  for (let clientId = 0; clientId < options.clients; clientId++) {
    let time = rng.int(10);
    for (let k = 0; k < options.opsPerClient; k++) {
      const key = `k${rng.int(options.keys)}`;
      const value = `c${clientId}.${k}`;
      const values = written.get(key) ?? [];
      const expected = values.length > 0 && rng.chance(0.8) ? rng.pick(values) : null;
      const input = rng.pick<KvInput>([
        { op: 'get', key },
        { op: 'get', key },
        { op: 'put', key, value },
        { op: 'delete', key },
        { op: 'cas', key, expected, value },
      ]);
      if (input.op !== 'get' && input.op !== 'delete') written.set(key, [...values, value]);
      const call = time;
      const at = call + rng.float() * 20;
      const unknown = rng.chance(options.unknownRate);
      const ret = unknown ? Infinity : Math.ceil(at + rng.float() * 20);
      const op: KvOperation = { clientId, input, call, return: ret, output: undefined };
      planned.push({ op, at, lands: !unknown || rng.chance(0.5) });
      time = (unknown ? at + 30 : ret) + rng.int(5);
    }
  }
  const store = new Map<string, string>();
  for (const { op, lands } of [...planned].sort((a, b) => a.at - b.at)) {
    if (!lands) continue;
    const output = execute(store, op.input);
    if (op.return !== Infinity) op.output = output;
  }
  return planned.map((p) => p.op);
}

function execute(store: Map<string, string>, input: KvInput): KvOutput {
  const current = store.get(input.key) ?? null;
  switch (input.op) {
    case 'get':
      return { value: current };
    case 'put':
      store.set(input.key, input.value);
      return {};
    case 'delete':
      store.delete(input.key);
      return { deleted: current !== null };
    case 'cas':
      if (current !== input.expected) return { ok: false };
      store.set(input.key, input.value);
      return { ok: true };
  }
}

test('linearizability - histories of a real execution are ok, and a corrupted read is not', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new SeededRng(seed);
    const unknownRate = seed % 2 === 0 ? 0.15 : 0.03;
    const history = generateHistory(rng, { clients: 6, keys: 3, opsPerClient: 40, unknownRate });
    const report = checkOperations(kvModel, history, { timeoutMs: 10_000 });
    assert.equal(report.result, 'ok', `seed ${seed}: ${report.describe()}`);

    const reads = history.filter((o) => o.input.op === 'get' && o.output !== undefined);
    const victim = rng.pick(reads);
    const corrupt = (o: KvOperation): KvOperation => ({ ...o, output: { value: 'never-written' } });
    const corrupted = history.map((o) => (o === victim ? corrupt(o) : o));
    const bad = checkOperations(kvModel, corrupted, { timeoutMs: 10_000 });
    assert.equal(bad.result, 'illegal', `seed ${seed}: corrupted read was accepted`);
    const details = bad.details as IllegalDetails<KvInput, KvOutput>;
    assert.equal(details.partitionLabel, `key ${JSON.stringify(victim.input.key)}`);
  }
});

test('linearizability - 2,000 operations from 10 clients on 5 keys check within budget', () => {
  const rng = new SeededRng(2024);
  const options = { clients: 10, keys: 5, opsPerClient: 200, unknownRate: 0.03 };
  const history = generateHistory(rng, options);
  assert.equal(history.length, 2000);
  const report = checkOperations(kvModel, history, { timeoutMs: 30_000 });
  assert.equal(report.result, 'ok', report.describe());
});

test('linearizability - 3,000 operations on one key, some unknown, check within budget', () => {
  const rng = new SeededRng(7);
  const options = { clients: 10, keys: 1, opsPerClient: 300, unknownRate: 0.05 };
  const history = generateHistory(rng, options);
  const report = checkOperations(kvModel, history, { timeoutMs: 30_000 });
  assert.equal(report.result, 'ok', report.describe());
});
