import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadIndexLoop, type ReadIndexPort } from '../../src/server/read-index.ts';

function fakePort(): ReadIndexPort & { requests: Uint8Array[]; applied: number; accept: boolean } {
  return {
    requests: [],
    applied: 0,
    accept: true,
    requestReadIndex(context) {
      if (!this.accept) return false;
      this.requests.push(context);
      return true;
    },
    appliedIndex() {
      return this.applied;
    },
  };
}

test('read-index - reads arriving together share one round', async () => {
  const port = fakePort();
  const loop = new ReadIndexLoop(port);
  const reads = [loop.wait(), loop.wait(), loop.wait()];
  await Promise.resolve();
  assert.equal(port.requests.length, 1);
  port.applied = 5;
  loop.onReadState(port.requests[0]!, 5);
  await Promise.all(reads);
});

test('read-index - a round is released only once applied reaches its read index', async () => {
  const port = fakePort();
  const loop = new ReadIndexLoop(port);
  let done = false;
  const read = loop.wait().then(() => {
    done = true;
  });
  await Promise.resolve();
  port.applied = 3;
  loop.onReadState(port.requests[0]!, 7);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  port.applied = 7;
  loop.onApplied();
  await read;
  assert.equal(done, true);
});

test('read-index - with no leader the readers fail with etcd\'s error', async () => {
  const port = fakePort();
  port.accept = false;
  const loop = new ReadIndexLoop(port);
  await assert.rejects(loop.wait(), /etcdserver: no leader/);
});

test('read-index - stopping fails every waiting reader', async () => {
  const port = fakePort();
  const loop = new ReadIndexLoop(port);
  const read = loop.wait();
  await Promise.resolve();
  loop.stop();
  await assert.rejects(read, /server stopped/);
});
