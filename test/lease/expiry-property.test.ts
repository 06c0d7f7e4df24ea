// Property tests: the expiry heap, and the lessor's expiry against a deliberately naive model that
// scans every lease on every poll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LeaseQueue } from '../../src/lease/lease-queue.ts';
import { LeaseError } from '../../src/lease/index.ts';
import { setup } from './helpers.ts';

type QueueOp =
  | { kind: 'set'; id: bigint; timeMs: number }
  | { kind: 'delete'; id: bigint }
  | { kind: 'pop' };

const queueId = fc.bigInt(0n, 20n);
const queueOp: fc.Arbitrary<QueueOp> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), id: queueId, timeMs: fc.nat(50) }),
  fc.record({ kind: fc.constant('delete' as const), id: queueId }),
  fc.record({ kind: fc.constant('pop' as const) }),
);

test('lease - the lease queue pops in (time, id) order like a sorted list', () => {
  fc.assert(
    fc.property(fc.array(queueOp, { maxLength: 200 }), (ops) => {
      const queue = new LeaseQueue();
      const model = new Map<bigint, number>();
      for (const op of ops) {
        if (op.kind === 'set') {
          queue.set(op.id, op.timeMs);
          model.set(op.id, op.timeMs);
        } else if (op.kind === 'delete') {
          queue.delete(op.id);
          model.delete(op.id);
        } else {
          const first = [...model].sort(([ia, ta], [ib, tb]) => ta - tb || (ia < ib ? -1 : 1))[0];
          assert.deepEqual(queue.pop(), first && { id: first[0], timeMs: first[1] });
          if (first) model.delete(first[0]);
        }
        queue.checkInvariants();
        assert.equal(queue.size, model.size);
      }
    }),
  );
});

type LessorOp =
  | { kind: 'grant'; id: bigint; ttlSeconds: number }
  | { kind: 'renew'; id: bigint }
  | { kind: 'revoke'; id: bigint }
  | { kind: 'advance'; ms: number }
  | { kind: 'poll'; limit: number }
  | { kind: 'promote'; extendMs: number }
  | { kind: 'demote' };

const id = fc.bigInt(1n, 12n);
const ttlSeconds = fc.integer({ min: -1, max: 20 });
const pollLimit = fc.integer({ min: 1, max: 6 });
const extendMs = fc.nat(3_000);
// Whole half-seconds often, so polls land exactly on expiries (the boundary is inclusive).
const advanceMs = fc.oneof(
  { weight: 1, arbitrary: fc.nat(8_000) },
  { weight: 4, arbitrary: fc.nat(8).map((n) => n * 1_000) },
);
const lessorOp: fc.Arbitrary<LessorOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('grant' as const), id, ttlSeconds }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('renew' as const), id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), id }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: advanceMs }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('poll' as const), limit: pollLimit }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('promote' as const), extendMs }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'demote' as const }) },
);

/** What a call did: its result, or the code of the LeaseError it threw. */
function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    if (error instanceof LeaseError) return error.code;
    throw error;
  }
}

test('lease - expired leases match a naive scan across grant, renew, revoke and time', () => {
  const minTtlSeconds = 2;
  fc.assert(
    fc.property(fc.boolean(), fc.array(lessorOp, { maxLength: 150, size: 'max' }), (lead, ops) => {
      const { lessor, clock } = setup({ minTtlSeconds });
      const model = new Map<bigint, { ttlMs: number; expiryMs: number }>();
      let primary = lead;
      if (lead) lessor.promote(0);
      for (const op of ops) {
        const now = clock.nowMs();
        switch (op.kind) {
          case 'grant': {
            const got = outcome(() => lessor.grant(op.id, op.ttlSeconds).id);
            if (model.has(op.id)) assert.equal(got, 'lease-exist');
            else {
              const ttlMs = Math.max(op.ttlSeconds, minTtlSeconds) * 1000;
              model.set(op.id, { ttlMs, expiryMs: primary ? now + ttlMs : Infinity });
              assert.equal(got, op.id);
            }
            break;
          }
          case 'renew': {
            const got = outcome(() => lessor.renew(op.id));
            const lease = model.get(op.id);
            if (!primary) assert.equal(got, 'not-primary');
            else if (lease === undefined) assert.equal(got, 'lease-not-found');
            else if (lease.expiryMs <= now) assert.equal(got, 'lease-expired');
            else {
              lease.expiryMs = now + lease.ttlMs;
              assert.equal(got, lease.ttlMs / 1000);
            }
            break;
          }
          case 'revoke': {
            const expected = model.delete(op.id) ? undefined : 'lease-not-found';
            assert.equal(outcome(() => lessor.revoke(op.id)), expected);
            break;
          }
          case 'advance':
            clock.advance(op.ms);
            break;
          case 'poll': {
            // The naive model: scan everything, sort by (expiry, id), take the first `limit`.
            const expected = [...model]
              .filter(([, l]) => l.expiryMs <= now)
              .sort(([ia, a], [ib, b]) => a.expiryMs - b.expiryMs || (ia < ib ? -1 : 1))
              .slice(0, op.limit)
              .map(([leaseId]) => leaseId);
            const got = lessor.expiredLeases(op.limit);
            assert.deepEqual(got, expected);
            // The server proposes and applies a revoke for each one handed out.
            for (const leaseId of got) {
              lessor.revoke(leaseId);
              model.delete(leaseId);
            }
            break;
          }
          case 'promote':
            primary = true;
            lessor.promote(op.extendMs);
            for (const lease of model.values()) lease.expiryMs = now + lease.ttlMs + op.extendMs;
            break;
          case 'demote':
            primary = false;
            lessor.demote();
            for (const lease of model.values()) lease.expiryMs = Infinity;
            break;
        }
        lessor.checkInvariants();
        const modelLeases = [...model].sort(([a], [b]) => (a < b ? -1 : 1));
        assert.deepEqual(
          lessor.leases().map((l) => [l.id, l.expiryMs]),
          modelLeases.map(([leaseId, l]) => [leaseId, l.expiryMs]),
        );
      }
    }),
    { numRuns: 300 },
  );
});
