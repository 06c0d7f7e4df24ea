import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestIdGenerator, computeClusterId, computeMemberId } from '../../src/server/ids.ts';

// Figures read off real etcd 3.4.23 started with
//   --initial-advertise-peer-urls http://127.0.0.1:23801 --initial-cluster-token tok-1
test('ids - member and cluster ids match what etcd derives for the same flags', () => {
  const member = computeMemberId(['http://127.0.0.1:23801'], 'tok-1');
  assert.equal(member, 17836315519559875096n);
  assert.equal(computeClusterId([member]), 15904247452754297380n);
});

test('ids - a different cluster token gives a different member id', () => {
  assert.notEqual(computeMemberId(['http://127.0.0.1:2380'], 'a'), computeMemberId(['http://127.0.0.1:2380'], 'b'));
});

test('ids - the cluster id does not depend on member order', () => {
  assert.equal(computeClusterId([3n, 1n, 2n]), computeClusterId([1n, 2n, 3n]));
});

test('ids - request ids are distinct and carry the member prefix', () => {
  const gen = new RequestIdGenerator(0xabcdn, 1_700_000_000_000);
  const seen = new Set<bigint>();
  for (let i = 0; i < 1000; i++) seen.add(gen.next());
  assert.equal(seen.size, 1000);
  for (const id of seen) assert.equal(id >> 48n, 0xabcdn);
});
