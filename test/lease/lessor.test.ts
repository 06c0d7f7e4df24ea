import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LeaseError,
  LeaseErrorCode,
  MAX_LEASE_TTL_SECONDS,
  NO_LEASE,
  isLeaseError,
  minLeaseTtlSeconds,
} from '../../src/lease/index.ts';
import type { LeaseErrorCode as Code } from '../../src/lease/index.ts';
import { keys, names, setup } from './helpers.ts';

function throwsLease(fn: () => unknown, code: Code, message?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isLeaseError(error, code), `expected ${code}, got ${String(error)}`);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

test('lease - revoke deletes every attached key in one sorted call and drops the record', () => {
  const { lessor, deleter, store } = setup();
  lessor.grant(7n, 10);
  lessor.attach(7n, keys('b', 'a', 'c'));
  assert.deepEqual(store.listLeases(), [{ id: 7n, ttlSeconds: 10, remainingTtlSeconds: 0 }]);
  lessor.revoke(7n);
  assert.deepEqual(deleter.calls, [['a', 'b', 'c']]);
  assert.equal(lessor.lookup(7n), undefined);
  assert.equal(lessor.leaseOf(keys('a')[0]!), NO_LEASE);
  assert.deepEqual(store.listLeases(), []);
  lessor.checkInvariants();
});

test('lease - revoking a lease without keys does not call the key deleter', () => {
  const { lessor, deleter } = setup();
  lessor.grant(1n, 10);
  lessor.revoke(1n);
  assert.deepEqual(deleter.calls, []);
});

test('lease - revoking an unknown lease fails with etcd not-found message', () => {
  const { lessor } = setup();
  throwsLease(() => lessor.revoke(3n), LeaseErrorCode.leaseNotFound,
    'etcdserver: requested lease not found');
});

test('lease - a TTL below the minimum is raised to it', () => {
  const { lessor, store } = setup({ minTtlSeconds: 5 });
  assert.equal(lessor.grant(1n, 2).ttlSeconds, 5);
  assert.equal(lessor.grant(2n, -3).ttlSeconds, 5);
  assert.equal(lessor.grant(3n, 9).ttlSeconds, 9);
  assert.equal(store.listLeases().find((r) => r.id === 1n)?.ttlSeconds, 5);
});

test('lease - the minimum TTL is one and a half election timeouts rounded up to seconds', () => {
  assert.equal(minLeaseTtlSeconds({ electionTicks: 10, heartbeatIntervalMs: 100 }), 2);
  assert.equal(minLeaseTtlSeconds({ electionTicks: 5, heartbeatIntervalMs: 100 }), 1);
  assert.equal(minLeaseTtlSeconds({ electionTicks: 10, heartbeatIntervalMs: 1000 }), 15);
  assert.equal(minLeaseTtlSeconds({ electionTicks: 3, heartbeatIntervalMs: 500 }), 2);
});

test('lease - a TTL above the maximum is refused as too large', () => {
  const { lessor } = setup();
  throwsLease(() => lessor.grant(1n, MAX_LEASE_TTL_SECONDS + 1), LeaseErrorCode.ttlTooLarge,
    'etcdserver: too large lease TTL');
  assert.equal(lessor.grant(2n, MAX_LEASE_TTL_SECONDS).ttlSeconds, MAX_LEASE_TTL_SECONDS);
});

test('lease - granting an existing id fails and id 0 names no lease', () => {
  const { lessor } = setup();
  lessor.grant(1n, 10);
  throwsLease(() => lessor.grant(1n, 20), LeaseErrorCode.leaseExist,
    'etcdserver: lease already exists');
  assert.equal(lessor.lookup(1n)?.ttlSeconds, 10);
  throwsLease(() => lessor.grant(0n, 10), LeaseErrorCode.leaseNotFound);
  const error = new LeaseError(LeaseErrorCode.leaseExist, 1n);
  assert.equal(error.leaseId, 1n);
});

test('lease - renew on the primary restarts the countdown at the full TTL', () => {
  const { lessor, clock } = setup();
  lessor.promote(0);
  lessor.grant(1n, 10);
  clock.advance(9_000);
  assert.equal(lessor.renew(1n), 10);
  assert.equal(lessor.lookup(1n)?.expiryMs, clock.nowMs() + 10_000);
  clock.advance(9_999);
  assert.deepEqual(lessor.expiredLeases(), []);
  clock.advance(1);
  assert.deepEqual(lessor.expiredLeases(), [1n]);
});

test('lease - renew fails on a non-primary, for an unknown lease and for an expired one', () => {
  const { lessor, clock } = setup();
  lessor.grant(1n, 10);
  throwsLease(() => lessor.renew(1n), LeaseErrorCode.notPrimary, 'not a primary lessor');
  lessor.promote(0);
  throwsLease(() => lessor.renew(2n), LeaseErrorCode.leaseNotFound);
  clock.advance(10_000);
  throwsLease(() => lessor.renew(1n), LeaseErrorCode.leaseExpired,
    'etcdserver: requested lease not found');
});

test('lease - keepAlive of an expired lease waits for the revoke, then: not found', async () => {
  const { lessor, clock } = setup();
  lessor.promote(0);
  lessor.grant(1n, 5);
  assert.equal(await lessor.keepAlive(1n), 5);
  clock.advance(5_000);
  let settled = false;
  const pending = lessor.keepAlive(1n).finally(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false);
  lessor.revoke(1n);
  await assert.rejects(pending, (e: unknown) => isLeaseError(e, LeaseErrorCode.leaseNotFound));
});

test('lease - keepAlive of an expired lease says not primary on demotion', async () => {
  const { lessor, clock } = setup();
  lessor.promote(0);
  lessor.grant(1n, 5);
  clock.advance(6_000);
  const pending = lessor.keepAlive(1n);
  lessor.demote();
  await assert.rejects(pending, (e: unknown) => isLeaseError(e, LeaseErrorCode.notPrimary));
  const aborted = new AbortController();
  lessor.promote(0);
  clock.advance(6_000);
  const waiting = lessor.keepAlive(1n, { signal: aborted.signal });
  aborted.abort(new Error('client went away'));
  await assert.rejects(waiting, /client went away/);
});

test('lease - only the primary expires leases, earliest first', () => {
  const { lessor, clock } = setup();
  lessor.grant(1n, 30);
  lessor.grant(2n, 10);
  lessor.grant(3n, 20);
  clock.advance(100_000);
  assert.deepEqual(lessor.expiredLeases(), [], 'a follower never expires leases');
  lessor.promote(0);
  clock.advance(25_000);
  assert.deepEqual(lessor.expiredLeases(), [2n, 3n]);
  lessor.revoke(2n); // as the server does once the revoke proposals apply
  lessor.revoke(3n);
  clock.advance(5_000);
  assert.deepEqual(lessor.expiredLeases(), [1n]);
  lessor.checkInvariants();
});

test('lease - expiredLeases is bounded per call and retries a lease after an interval', () => {
  const { lessor, clock } = setup({ expiredRetryIntervalMs: 3_000 });
  lessor.promote(0);
  for (let id = 1n; id <= 5n; id++) lessor.grant(id, 10);
  clock.advance(10_000);
  assert.deepEqual(lessor.expiredLeases(2), [1n, 2n]);
  assert.deepEqual(lessor.expiredLeases(2), [3n, 4n]);
  assert.deepEqual(lessor.expiredLeases(2), [5n]);
  assert.deepEqual(lessor.expiredLeases(2), [], 'handed out: waiting for their revokes');
  lessor.revoke(1n);
  lessor.revoke(2n);
  clock.advance(3_000);
  assert.deepEqual(lessor.expiredLeases(), [3n, 4n, 5n], 'lost revokes are retried');
  lessor.checkInvariants();
});

test('lease - the default bound is half the revoke rate per second', () => {
  const { lessor, clock } = setup({ revokeRatePerSecond: 10 });
  lessor.promote(0);
  for (let id = 1n; id <= 8n; id++) lessor.grant(id, 10);
  clock.advance(10_000);
  assert.equal(lessor.expiredLeases().length, 5);
});

test('lease - promote restarts every countdown plus the extension, so none expires early', () => {
  const { lessor, clock } = setup();
  lessor.grant(1n, 10);
  lessor.grant(2n, 20);
  clock.advance(9_000); // the old leader's countdown would be nearly over
  lessor.promote(1_000);
  assert.deepEqual(lessor.leases().map((l) => l.expiryMs - clock.nowMs()), [11_000, 21_000]);
  clock.advance(10_999);
  assert.deepEqual(lessor.expiredLeases(), []);
  clock.advance(1);
  assert.deepEqual(lessor.expiredLeases(), [1n]);
});

test('lease - promote counts down from a checkpointed remaining TTL', () => {
  const { lessor, clock } = setup();
  lessor.grant(1n, 100);
  lessor.checkpoint(1n, 40);
  lessor.promote(2_000);
  assert.equal(lessor.lookup(1n)?.expiryMs, clock.nowMs() + 42_000);
  assert.equal(lessor.timeToLive(1n).ttlSeconds, 42);
});

test('lease - promote spreads a pile-up of expiries below the revoke rate', () => {
  const { lessor, clock } = setup({ revokeRatePerSecond: 100 });
  for (let id = 1n; id <= 400n; id++) lessor.grant(id, 10);
  lessor.promote(0);
  const expiries = lessor.leases().map((l) => l.expiryMs - clock.nowMs()).sort((a, b) => a - b);
  assert.equal(expiries[0], 10_000);
  assert.equal(expiries.filter((e) => e === 10_000).length, 75, 'three quarters of the rate');
  for (let start = 10_000; start < 16_000; start += 1_000) {
    const inWindow = expiries.filter((e) => e >= start && e < start + 1_000).length;
    assert.ok(inWindow <= 100, `${inWindow} expiries in the second from ${start} ms`);
  }
  assert.ok(expiries[399]! <= 16_000);
  lessor.checkInvariants();
});

test('lease - demote stops expiry: leases live forever on a follower', () => {
  const { lessor, clock } = setup();
  lessor.promote(0);
  lessor.grant(1n, 5);
  lessor.demote();
  assert.equal(lessor.isPrimary, false);
  assert.equal(lessor.lookup(1n)?.expiryMs, Infinity);
  clock.advance(1_000_000);
  assert.deepEqual(lessor.expiredLeases(), []);
  assert.equal(lessor.timeToLive(1n).ttlSeconds, 5, 'a follower reports the countdown');
  lessor.checkInvariants();
});

test('lease - attach and detach keep each key on at most one lease', () => {
  const { lessor, deleter } = setup();
  lessor.grant(1n, 10);
  lessor.grant(2n, 10);
  const [a, b, c] = keys('a', 'b', 'c') as [Uint8Array, Uint8Array, Uint8Array];
  lessor.attach(1n, [a, b, c]);
  assert.equal(lessor.leaseOf(b), 1n);
  lessor.attach(2n, [b]); // b overwritten by a put with lease 2
  assert.equal(lessor.leaseOf(b), 2n);
  lessor.detach(1n, [c, b]); // b is not lease 1's any more: ignored
  assert.equal(lessor.leaseOf(b), 2n);
  assert.equal(lessor.leaseOf(c), NO_LEASE);
  assert.equal(lessor.lookup(1n)?.keyCount, 1);
  throwsLease(() => lessor.attach(9n, [a]), LeaseErrorCode.leaseNotFound);
  throwsLease(() => lessor.detach(9n, [a]), LeaseErrorCode.leaseNotFound);
  lessor.checkInvariants();
  lessor.revoke(1n);
  lessor.revoke(2n);
  assert.deepEqual(deleter.calls, [['a'], ['b']]);
});

test('lease - attached keys are copied and compared bytewise', () => {
  const { lessor, deleter } = setup();
  lessor.grant(1n, 10);
  const key = Uint8Array.of(0xff, 0x00);
  lessor.attach(1n, [key, Uint8Array.of(0x7f), Uint8Array.of(0xff)]);
  key[0] = 0; // the caller's buffer is reused
  assert.equal(lessor.leaseOf(Uint8Array.of(0xff, 0x00)), 1n);
  const big = new Uint8Array(20_000).fill(0x61);
  lessor.attach(1n, [big]);
  assert.equal(lessor.leaseOf(big), 1n);
  assert.deepEqual(lessor.timeToLive(1n, { keys: true }).keys.map((k) => [...k.subarray(0, 2)]),
    [[0x61, 0x61], [0x7f], [0xff], [0xff, 0x00]]);
  lessor.revoke(1n);
  assert.equal(deleter.calls.length, 1);
});

test('lease - timeToLive reports remaining seconds, the granted TTL and sorted keys', () => {
  const { lessor, clock } = setup();
  lessor.promote(0);
  lessor.grant(1n, 10);
  lessor.attach(1n, keys('z', 'm'));
  const fresh = { id: 1n, ttlSeconds: 10, grantedTtlSeconds: 10, keys: [] };
  assert.deepEqual(lessor.timeToLive(1n), fresh);
  clock.advance(2_500);
  const ttl = lessor.timeToLive(1n, { keys: true });
  assert.equal(ttl.ttlSeconds, 7);
  assert.deepEqual(names(ttl.keys), ['m', 'z']);
  clock.advance(7_500);
  assert.equal(lessor.timeToLive(1n).ttlSeconds, -1, 'expired, revoke pending');
  throwsLease(() => lessor.timeToLive(2n), LeaseErrorCode.leaseNotFound);
});

test('lease - leases are listed by id', () => {
  const { lessor } = setup();
  for (const id of [5n, -2n, 9n, 1n]) lessor.grant(id, 10);
  assert.deepEqual(lessor.leases().map((l) => l.id), [-2n, 1n, 5n, 9n]);
});

test('lease - close is idempotent and leaves the lessor demoted', async () => {
  const { lessor } = setup();
  lessor.promote(0);
  lessor.grant(1n, 10);
  await lessor.close();
  await lessor.close();
  assert.equal(lessor.isPrimary, false);
  assert.throws(() => lessor.grant(2n, 10), /used after close/);
});
