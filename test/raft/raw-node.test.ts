import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memCluster } from './mem-cluster.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

test('raw-node - a three-node cluster elects a leader and replicates proposals to all', () => {
  const c = memCluster(3);
  c.elect(1n);
  assert.equal(c.leader()?.id, 1n);
  for (let i = 0; i < 10; i++) assert.deepEqual(c.get(1n).node.propose(enc.encode(`v${i}`)), { ok: true });
  c.stabilize();
  for (const n of c.nodes) {
    const data = n.applied.filter((e) => e.data.length > 0).map((e) => dec.decode(e.data));
    assert.deepEqual(data, Array.from({ length: 10 }, (_, i) => `v${i}`), `node ${n.id}`);
  }
});

test('raw-node - a follower forwards proposals to the leader', () => {
  const c = memCluster(3);
  c.elect(2n);
  assert.deepEqual(c.get(3n).node.propose(enc.encode('from-3')), { ok: true });
  c.stabilize();
  for (const n of c.nodes) assert.ok(n.applied.some((e) => dec.decode(e.data) === 'from-3'));
});

test('raw-node - a proposal with no leader is dropped with a reason', () => {
  const c = memCluster(3);
  assert.deepEqual(c.get(1n).node.propose(enc.encode('x')), { ok: false, reason: 'no-leader' });
});

test('raw-node - a single-node cluster elects itself and commits', () => {
  const c = memCluster(1);
  c.elect(1n);
  assert.equal(c.leader()?.id, 1n);
  c.get(1n).node.propose(enc.encode('solo'));
  c.stabilize();
  assert.ok(c.get(1n).applied.some((e) => dec.decode(e.data) === 'solo'));
});

test('raw-node - read index on a follower returns the leader commit index', () => {
  const c = memCluster(3);
  c.elect(1n);
  c.get(1n).node.propose(enc.encode('a'));
  c.stabilize();
  c.get(2n).node.readIndex(enc.encode('read-1'));
  c.stabilize();
  const rs = c.get(2n).readStates.find((r) => dec.decode(r.context) === 'read-1');
  assert.ok(rs, 'the follower got a read state');
  assert.equal(rs.index, c.get(1n).node.status().hardState.commit);
});

test('raw-node - lease-based reads are answered by the leader without a heartbeat round', () => {
  const c = memCluster(3, { readOnlyOption: 'lease-based', checkQuorum: true });
  c.elect(1n);
  c.get(1n).node.propose(enc.encode('a'));
  c.stabilize();
  const leader = c.get(1n);
  leader.node.readIndex(enc.encode('lease-read'));
  // The read state is ready at once: no message needs to go out for it.
  const rd = leader.node.ready();
  const rs = rd.readStates.find((r) => dec.decode(r.context) === 'lease-read');
  assert.ok(rs, 'the leader answered from its lease');
  assert.equal(rs.index, leader.node.status().hardState.commit);
  assert.equal(rd.messages.filter((m) => m.type === 'Heartbeat').length, 0);
  leader.node.advance(rd);
});

test('raw-node - lease-based reads require CheckQuorum', () => {
  assert.throws(() => memCluster(3, { readOnlyOption: 'lease-based', checkQuorum: false }), /lease-based reads need checkQuorum/);
});
