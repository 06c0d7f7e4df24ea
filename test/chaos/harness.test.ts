// The harness's own parts: the history records outcomes once, errors are classified as etcd's
// semantics allow, and a seed reproduces its fault schedule, which covers every kind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { classifyError } from './client/errors.ts';
import { countOutcomes, History } from './history.ts';
import { overallResult } from './report.ts';
import { generateSchedule } from './schedule.ts';
import { FAULT_KINDS } from './types.ts';

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

test('history - an operation completes once; an unknown one never returns', () => {
  let now = 0;
  const history = new History(() => now);
  const a = history.invoke('register', 1, { op: 'write' });
  const b = history.invoke('register', 2, { op: 'write' });
  now = 5;
  a.ok({});
  b.unknown('DEADLINE_EXCEEDED');
  assert.throws(() => a.failed('again'), /completed twice/);
  assert.equal(a.entry.completeMs, 5);
  assert.equal(b.entry.completeMs, Infinity);
  assert.equal(b.entry.gaveUpMs, 5);
  assert.deepEqual(countOutcomes(history.entries()).get('register'), { ok: 1, failed: 0, unknown: 1 });
});

test('errors - only errors that prove a request had no effect are failures', () => {
  const failed = [
    serviceError(grpc.status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED'),
    serviceError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded after 2.001s,Waiting for LB pick'),
    serviceError(grpc.status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
    serviceError(grpc.status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),
  ];
  for (const err of failed) assert.equal(classifyError(err).outcome, 'failed', err.details);
  const unknown = [
    serviceError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded after 2.001s,remote_addr=127.0.0.1:2379'),
    serviceError(grpc.status.UNAVAILABLE, 'etcdserver: request timed out'),
    serviceError(grpc.status.UNAVAILABLE, 'etcdserver: leader changed'),
    serviceError(grpc.status.UNAVAILABLE, 'Connection dropped'),
    serviceError(grpc.status.INTERNAL, 'Received RST_STREAM with code 2'),
    new Error('socket hang up'),
  ];
  for (const err of unknown) assert.equal(classifyError(err).outcome, 'unknown', err.message);
});

test('schedule - a seed reproduces its schedule, which goes through every kind first', () => {
  const options = { seed: 42, timeMs: 120_000, kinds: FAULT_KINDS };
  const a = generateSchedule(options);
  assert.deepEqual(generateSchedule(options), a);
  assert.notDeepEqual(generateSchedule({ ...options, seed: 43 }), a);
  assert.deepEqual(new Set(a.slice(0, FAULT_KINDS.length).map((e) => e.kind)), new Set(FAULT_KINDS));
  assert.ok(a.filter((e) => e.kind === 'failpoint').every((e) => e.failpoint !== undefined));
});

test('schedule - every kind runs even when the time is short; more time brings more episodes', () => {
  const short = generateSchedule({ seed: 1, timeMs: 1_000, kinds: ['kill', 'pause'] });
  assert.deepEqual(new Set(short.map((e) => e.kind)), new Set(['kill', 'pause']));
  assert.equal(short.length, 2);
  assert.ok(generateSchedule({ seed: 1, timeMs: 600_000, kinds: ['kill', 'pause'] }).length > 50);
});

test('report - a violation decides the result over harness errors and inconclusive checks', () => {
  const v = (result: 'ok' | 'violation' | 'inconclusive') => ({ checker: 'x', result, summary: '', violations: [] });
  assert.equal(overallResult([v('ok'), v('ok')], []), 'ok');
  assert.equal(overallResult([v('ok'), v('inconclusive')], []), 'inconclusive');
  assert.equal(overallResult([v('inconclusive')], ['fault failed']), 'harness-error');
  assert.equal(overallResult([v('violation')], ['fault failed']), 'violation');
});
