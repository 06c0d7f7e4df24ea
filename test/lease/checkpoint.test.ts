import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lessor, MemoryLeaseStore } from '../../src/lease/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { RecordingDeleter, keys, setup } from './helpers.ts';

test('lease - a checkpoint is durable: after a restart the lease counts down from it', () => {
  const { lessor, store } = setup();
  lessor.grant(1n, 100);
  lessor.checkpoint(1n, 30);
  assert.deepEqual(store.listLeases(), [{ id: 1n, ttlSeconds: 100, remainingTtlSeconds: 30 }]);
  const clock = new ManualClock(5);
  const restarted = new Lessor({ clock, store, keyDeleter: new RecordingDeleter() });
  assert.equal(restarted.lookup(1n)?.remainingTtlSeconds, 30);
  restarted.promote(1_000);
  assert.equal(restarted.lookup(1n)?.expiryMs, 5 + 31_000);
  assert.deepEqual(restarted.timeToLive(1n), {
    id: 1n, ttlSeconds: 31, grantedTtlSeconds: 100, keys: [],
  });
});

test('lease - without a checkpoint a recovered lease gets its full TTL back', () => {
  const { lessor, clock, store } = setup();
  lessor.promote(0);
  lessor.grant(1n, 60);
  clock.advance(50_000);
  const other = setup({ store }).lessor;
  other.promote(0);
  assert.equal(other.timeToLive(1n).ttlSeconds, 60);
});

test('lease - recover replaces every lease from the store and raises short TTLs', () => {
  const { lessor, clock } = setup({ minTtlSeconds: 5 });
  lessor.grant(1n, 10);
  lessor.attach(1n, keys('a'));
  lessor.promote(0);
  const snapshot = new MemoryLeaseStore();
  snapshot.putLease({ id: 2n, ttlSeconds: 2, remainingTtlSeconds: 0 });
  snapshot.putLease({ id: 3n, ttlSeconds: 50, remainingTtlSeconds: 20 });
  lessor.recover(snapshot);
  assert.deepEqual(lessor.leases().map((l) => [l.id, l.ttlSeconds, l.keyCount]), [
    [2n, 5, 0],
    [3n, 50, 0],
  ]);
  // Still primary: the recovered leases count down at once.
  assert.equal(lessor.lookup(3n)?.expiryMs, clock.nowMs() + 20_000);
  lessor.checkInvariants();
  lessor.grant(4n, 10);
  assert.equal(snapshot.listLeases().length, 3, 'later writes go to the recovered store');
});

test('lease - checkpoints are off by default', () => {
  const { lessor, clock } = setup();
  lessor.promote(0);
  lessor.grant(1n, 1_000);
  clock.advance(600_000);
  assert.deepEqual(lessor.dueCheckpoints(), []);
});

test('lease - a long lease is checkpointed every interval while the lessor is primary', () => {
  const { lessor, clock } = setup({ checkpointEnabled: true, checkpointIntervalMs: 300_000 });
  lessor.promote(0);
  lessor.grant(1n, 1_000);
  lessor.grant(2n, 200); // outlives no interval: never checkpointed
  clock.advance(299_999);
  assert.deepEqual(lessor.dueCheckpoints(), []);
  clock.advance(1);
  assert.deepEqual(lessor.dueCheckpoints(), [{ id: 1n, remainingTtlSeconds: 700 }]);
  assert.deepEqual(lessor.dueCheckpoints(), [], 'handed out once per interval');
  lessor.checkpoint(1n, 700); // the proposal applies
  assert.equal(lessor.lookup(1n)?.remainingTtlSeconds, 700);
  assert.equal(lessor.lookup(1n)?.expiryMs, clock.nowMs() + 700_000, 'own expiry unchanged');
  clock.advance(300_000);
  assert.deepEqual(lessor.dueCheckpoints(), [{ id: 1n, remainingTtlSeconds: 400 }]);
});

test('lease - a keep-alive after a checkpoint asks for the checkpoint to be cleared', () => {
  const { lessor, clock } = setup({ checkpointEnabled: true, checkpointIntervalMs: 300_000 });
  lessor.promote(0);
  lessor.grant(1n, 1_000);
  clock.advance(300_000);
  const [due] = lessor.dueCheckpoints();
  lessor.checkpoint(1n, due!.remainingTtlSeconds);
  assert.equal(lessor.renew(1n), 1_000);
  assert.equal(lessor.lookup(1n)?.expiryMs, clock.nowMs() + 1_000_000, 'renewed to the full TTL');
  assert.deepEqual(lessor.dueCheckpoints(), [{ id: 1n, remainingTtlSeconds: 0 }]);
  lessor.checkpoint(1n, 0);
  lessor.renew(1n);
  assert.deepEqual(lessor.dueCheckpoints(), [], 'nothing to clear any more');
});

test('lease - a lost checkpoint proposal is proposed again an interval later', () => {
  const { lessor, clock } = setup({ checkpointEnabled: true, checkpointIntervalMs: 300_000 });
  lessor.promote(0);
  lessor.grant(1n, 1_000);
  clock.advance(300_000);
  assert.equal(lessor.dueCheckpoints().length, 1);
  clock.advance(300_000);
  assert.deepEqual(lessor.dueCheckpoints(), [{ id: 1n, remainingTtlSeconds: 400 }]);
});

test('lease - checkpoints are bounded per call and stop on demotion', () => {
  const { lessor, clock } = setup({ checkpointEnabled: true, checkpointIntervalMs: 60_000 });
  lessor.promote(0);
  for (let id = 1n; id <= 5n; id++) lessor.grant(id, 600);
  clock.advance(60_000);
  assert.deepEqual(lessor.dueCheckpoints(3).map((c) => c.id), [1n, 2n, 3n]);
  lessor.demote();
  assert.deepEqual(lessor.dueCheckpoints(), []);
  lessor.promote(0);
  lessor.revoke(5n);
  clock.advance(60_000);
  assert.deepEqual(lessor.dueCheckpoints().map((c) => c.id), [1n, 2n, 3n, 4n]);
});
