// Unit tests of the simulator's own parts: the disk's crash model, the network's links and
// delivery order, and the key-value state machine's digest and de-duplication.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../../src/raft/messages.ts';
import { SeededRng } from '../../src/util/rng.ts';
import { Disk, DiskError } from './disk.ts';
import { KvStore } from './kv.ts';
import { Network, calmNet } from './net.ts';

const entry = (index: number, term = 1): Entry => ({ index, term, type: 'Normal', data: new Uint8Array([index]) });
const indexes = (es: readonly Entry[]): number[] => es.map((e) => e.index);

test('disk - a crash keeps exactly what was synced when unsynced writes are lost', () => {
  const disk = new Disk();
  disk.write({ kind: 'entries', entries: [entry(1), entry(2)] });
  disk.write({ kind: 'hardState', hardState: { term: 1, vote: 1n, commit: 1 } });
  disk.sync();
  disk.write({ kind: 'entries', entries: [entry(3)] });
  disk.write({ kind: 'hardState', hardState: { term: 2, vote: 2n, commit: 3 } });
  assert.equal(disk.crash(new SeededRng(1), false), 2);
  const d = disk.load();
  assert.deepEqual(indexes(d.entries), [1, 2]);
  assert.deepEqual(d.hardState, { term: 1, vote: 1n, commit: 1 });
});

test('disk - what survives a crash is always a prefix of the writes', () => {
  for (let seed = 0; seed < 200; seed++) {
    const disk = new Disk();
    disk.write({ kind: 'entries', entries: [entry(1), entry(2), entry(3)] });
    disk.write({ kind: 'hardState', hardState: { term: 1, vote: 1n, commit: 3 } });
    disk.write({ kind: 'entries', entries: [entry(4), entry(5)] });
    disk.crash(new SeededRng(seed), true);
    const d = disk.load();
    const last = d.entries.length;
    assert.deepEqual(indexes(d.entries), Array.from({ length: last }, (_, i) => i + 1));
    if (d.hardState.commit === 3) assert.ok(last >= 3, 'a surviving hard state comes with its entries');
    if (last > 3) assert.equal(d.hardState.commit, 3, 'later entries survive only after the hard state');
  }
});

test('disk - a leader snapshot replaces the log, a local one keeps the tail', () => {
  const disk = new Disk();
  disk.write({ kind: 'entries', entries: [entry(1), entry(2), entry(3), entry(4)] });
  const snap = (index: number) => ({
    data: new Uint8Array(0),
    metadata: { index, term: 1, confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
  });
  disk.write({ kind: 'snapshot', snapshot: snap(2), replace: false });
  disk.sync();
  assert.deepEqual(indexes(disk.load().entries), [3, 4]);
  disk.write({ kind: 'snapshot', snapshot: snap(3), replace: true });
  disk.sync();
  assert.deepEqual(indexes(disk.load().entries), []);
  assert.equal(disk.load().snapshot?.metadata.index, 3);
});

test('disk - appending past the end of the log is refused', () => {
  const disk = new Disk();
  disk.write({ kind: 'entries', entries: [entry(1)] });
  disk.write({ kind: 'entries', entries: [entry(3)] });
  assert.throws(() => disk.sync(), DiskError);
});

test('net - partitions cut links by direction and heal restores them', () => {
  const net = new Network(new SeededRng(1), calmNet);
  net.partition([[1n], [2n, 3n]]);
  assert.ok(net.isBlocked(1n, 2n) && net.isBlocked(3n, 1n) && !net.isBlocked(2n, 3n));
  net.heal();
  net.cutOneWay(1n, 2n);
  assert.ok(net.isBlocked(1n, 2n) && !net.isBlocked(2n, 1n));
  net.heal();
  net.bridge([1n], 2n, [3n]);
  assert.ok(net.isBlocked(1n, 3n) && net.isBlocked(3n, 1n));
  assert.ok(!net.isBlocked(1n, 2n) && !net.isBlocked(2n, 3n) && !net.isBlocked(3n, 2n));
});

test('net - delivery follows arrival time and replays from the seed', () => {
  const order = (seed: number): number[] => {
    const net = new Network(new SeededRng(seed), { ...calmNet, delayMaxSteps: 20, dupRate: 0.2, lossRate: 0.1 });
    for (let i = 0; i < 50; i++) net.send({ type: 'App', from: 1n, to: 2n, term: i }, 0);
    const out: number[] = [];
    for (let step = 0; step < 100; step++) {
      for (let a = net.nextDue(step); a !== undefined; a = net.nextDue(step)) out.push(a.lost ? -1 : a.msg.term);
    }
    return out;
  };
  assert.deepEqual(order(5), order(5));
  assert.notDeepEqual(order(5), order(6));
  assert.ok(order(5).length >= 50);
});

test('kv - equal states have equal digests whatever the order of writes', () => {
  const a = new KvStore();
  const b = new KvStore();
  a.apply({ c: 1, s: 1, input: { op: 'put', key: 'x', value: '1' } });
  a.apply({ c: 2, s: 1, input: { op: 'put', key: 'y', value: '2' } });
  b.apply({ c: 2, s: 1, input: { op: 'put', key: 'y', value: '2' } });
  b.apply({ c: 1, s: 1, input: { op: 'put', key: 'x', value: '0' } });
  assert.notEqual(a.digest, b.digest);
  b.apply({ c: 1, s: 2, input: { op: 'put', key: 'x', value: '1' } });
  assert.equal(a.digest, b.digest);
  const c = new KvStore();
  c.restore(a.serialize());
  assert.equal(c.digest, a.digest);
});

test('kv - a command is applied at most once per client sequence number', () => {
  const kv = new KvStore();
  assert.deepEqual(kv.apply({ c: 1, s: 1, input: { op: 'cas', key: 'x', expected: null, value: 'a' } }).output, { ok: true });
  assert.equal(kv.apply({ c: 1, s: 1, input: { op: 'cas', key: 'x', expected: null, value: 'a' } }).duplicate, true);
  assert.deepEqual(kv.apply({ c: 1, s: 2, input: { op: 'delete', key: 'x' } }).output, { deleted: true });
  assert.equal(kv.get('x'), null);
});
