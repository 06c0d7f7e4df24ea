// Known-good and known-bad lease histories: keys that outlive their lease (expired or revoked),
// keys of a lease kept alive that disappear, and the bounds faults and unknown keep-alives move.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLease, type LeaseCheckOptions, type LeaseEntry, type LeaseInput, type LeaseOutput } from './checkers/lease.ts';
import type { Outcome } from './history.ts';

let index = 0;
function op(invokeMs: number, completeMs: number, input: LeaseInput, output?: LeaseOutput, outcome: Outcome = 'ok'): LeaseEntry {
  return {
    index: index++, workload: 'lease', process: 1, endpoint: '', invokeMs,
    completeMs: outcome === 'unknown' ? Infinity : completeMs, input, outcome,
    ...(outcome === 'unknown' ? { gaveUpMs: completeMs } : {}),
    ...(output === undefined ? {} : { output }),
  };
}
const grant = (t: number, lease: string, ttlSeconds: number): LeaseEntry => op(t, t + 5, { op: 'grant', ttlSeconds }, { lease, ttlSeconds });
const put = (t: number, key: string, lease: string): LeaseEntry => op(t, t + 5, { op: 'put', key, value: 'v', lease }, {});
const keepalive = (t: number, lease: string, ttlSeconds: number, outcome: Outcome = 'ok'): LeaseEntry =>
  op(t, t + 5, { op: 'keepalive', lease }, outcome === 'ok' ? { ttlSeconds } : undefined, outcome);
const revoke = (t: number, lease: string): LeaseEntry => op(t, t + 5, { op: 'revoke', lease }, {});
const read = (t: number, keys: Record<string, string>): LeaseEntry => op(t, t + 5, { op: 'read', prefix: 'l/' }, { keys });
const ttl = (t: number, lease: string, ttlSeconds: number): LeaseEntry => op(t, t + 5, { op: 'ttl', lease }, { ttlSeconds });

// Lease A (TTL 3 s) is kept alive until 9 s, then expires: gone by 9 + 3 + slack (3 + 3) = 18 s.
// Lease B (TTL 3 s) is revoked at 4 s.
function history(): LeaseEntry[] {
  return [
    grant(0, 'A', 3), put(10, 'l/a', 'A'),
    grant(20, 'B', 3), put(30, 'l/b', 'B'),
    keepalive(1_000, 'A', 3), keepalive(2_000, 'A', 3), keepalive(3_000, 'A', 3), keepalive(4_000, 'A', 3),
    keepalive(5_000, 'A', 3), keepalive(6_000, 'A', 3), keepalive(7_000, 'A', 3), keepalive(8_000, 'A', 3),
    keepalive(9_000, 'A', 3),
    read(500, { 'l/a': 'A', 'l/b': 'B' }),
    revoke(4_000, 'B'),
    read(7_000, { 'l/a': 'A' }),
    read(13_000, { 'l/a': 'A' }), // past the TTL but within the slack: allowed
    read(19_000, {}),
    ttl(20_000, 'A', -1),
  ];
}

function kinds(entries: LeaseEntry[], options: LeaseCheckOptions = {}): string[] {
  return [...new Set(checkLease(entries, options).violations.map((v) => v.kind))].sort();
}

test('lease checker - keys that go with their lease in time, and stay while it is alive, pass', () => {
  const v = checkLease(history());
  assert.equal(v.result, 'ok', JSON.stringify(v.violations, null, 1));
});

test('lease checker - a key that outlives its expired lease past TTL and slack is reported', () => {
  assert.deepEqual(kinds([...history(), read(25_000, { 'l/a': 'A' })]), ['lease-outlived']);
});

test('lease checker - a key still there after its lease was revoked is reported', () => {
  assert.deepEqual(kinds([...history(), read(4_100, { 'l/a': 'A', 'l/b': 'B' })]), ['lease-outlived']);
});

test('lease checker - a lease that answers TimeToLive long after it had to be gone is reported', () => {
  assert.deepEqual(kinds([...history(), ttl(30_000, 'A', 2)]), ['lease-outlived']);
});

test('lease checker - a key of a lease kept alive that disappears is reported', () => {
  assert.deepEqual(kinds([...history(), read(6_000, {})]), ['lease-lost']);
});

test('lease checker - a keep-alive or TimeToLive that finds no lease while it was certainly alive is reported', () => {
  assert.deepEqual(kinds([...history(), ttl(5_500, 'A', -1)]), ['lease-lost']);
  assert.deepEqual(kinds([...history(), keepalive(5_500, 'A', 0)]), ['lease-lost']);
  // TimeToLive answers whole seconds left: 0 is a lease with less than a second to live.
  assert.deepEqual(kinds([...history(), ttl(11_500, 'A', 0)]), []);
});

test('lease checker - a fault window moves the bound: no expiry is owed while the cluster is down', () => {
  const late = [...history(), read(25_000, { 'l/a': 'A' })];
  assert.deepEqual(kinds(late, { faults: [{ fromMs: 10_000, toMs: 20_000 }] }), []);
  assert.deepEqual(kinds([...late, read(40_000, { 'l/a': 'A' })], { faults: [{ fromMs: 10_000, toMs: 20_000 }] }), ['lease-outlived']);
});

test('lease checker - an unknown keep-alive may have renewed the lease late', () => {
  const entries = [...history(), keepalive(10_000, 'A', 3, 'unknown'), read(20_000, { 'l/a': 'A' })];
  assert.deepEqual(kinds(entries), []);
});

test('lease checker - keep-alives during a fault prove nothing when stale-leader renewals are tolerated', () => {
  const entries = [...history(), read(6_000, {})];
  const faults = [{ fromMs: 0, toMs: 10_000 }];
  assert.deepEqual(kinds(entries, { faults }), ['lease-lost']);
  assert.deepEqual(kinds(entries, { faults, staleLeaderRenewals: 'tolerated' }), []);
});
