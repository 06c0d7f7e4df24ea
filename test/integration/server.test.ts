// The server process: graceful shutdown on SIGTERM/SIGINT, and a restart that keeps data,
// revisions and leases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireTool, startConcord } from './concord-process.ts';
import { ETCDCTL_BIN } from './etcd-process.ts';

const run = promisify(execFile);
const tool = requireTool(ETCDCTL_BIN);

async function etcdctl(endpoint: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(ETCDCTL_BIN, ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
  return stdout;
}

test('server - SIGTERM stops the server with exit code 0 and a restart keeps data, revisions and leases', { skip: tool.skip }, async () => {
  const first = await startConcord();
  let second;
  try {
    await etcdctl(first.endpoint, 'put', 'k1', 'v1');
    await etcdctl(first.endpoint, 'put', 'k2', 'v2');
    const grant = await etcdctl(first.endpoint, 'lease', 'grant', '600');
    const leaseId = /lease ([0-9a-f]+) granted/.exec(grant)?.[1];
    assert.ok(leaseId, grant);
    await etcdctl(first.endpoint, 'put', 'leased', 'x', `--lease=${leaseId}`);
    const before = JSON.parse(await etcdctl(first.endpoint, 'get', 'k1', '-w', 'json')) as { header: { revision: number } };
    assert.equal(await first.stop(), 0);

    second = await startConcord({ dataDir: first.dataDir });
    assert.equal((await etcdctl(second.endpoint, 'get', 'k1', '--print-value-only')).trim(), 'v1');
    assert.equal((await etcdctl(second.endpoint, 'get', 'k2', '--print-value-only')).trim(), 'v2');
    const after = JSON.parse(await etcdctl(second.endpoint, 'put', 'k3', 'v3', '-w', 'json')) as { header: { revision: number } };
    assert.equal(after.header.revision, before.header.revision + 1, 'revisions continue where they stopped');
    const ttl = await etcdctl(second.endpoint, 'lease', 'timetolive', leaseId, '--keys');
    assert.match(ttl, new RegExp(`lease ${leaseId} granted with TTL\\(600s\\)`));
    assert.match(ttl, /attached keys\(\[leased\]\)/);
    await etcdctl(second.endpoint, 'lease', 'revoke', leaseId);
    assert.equal((await etcdctl(second.endpoint, 'get', 'leased')).trim(), '', 'revoking the recovered lease deletes its key');
  } finally {
    await first.stop();
    if (second !== undefined) await second.stop();
    first.cleanup();
  }
});

test('server - SIGINT also shuts down cleanly', async () => {
  const proc = await startConcord();
  try {
    proc.child.kill('SIGINT');
    assert.equal(await proc.stop(), 0);
  } finally {
    proc.cleanup();
  }
});

test('server - an unknown flag exits non-zero with etcd\'s message', async () => {
  await assert.rejects(
    run(process.execPath, ['--import', 'tsx', 'src/cli/concord.ts', '--no-such-flag'], { cwd: `${import.meta.dirname}/../..` }),
    (err: { code?: number; stderr?: string }) => {
      assert.notEqual(err.code, 0);
      assert.match(err.stderr ?? '', /flag provided but not defined: -no-such-flag/);
      return true;
    },
  );
});

test('server - an expired lease is revoked by the leader and its keys are deleted in one revision', { skip: tool.skip }, async () => {
  const proc = await startConcord();
  try {
    const grant = await etcdctl(proc.endpoint, 'lease', 'grant', '2');
    const leaseId = /lease ([0-9a-f]+) granted/.exec(grant)?.[1];
    assert.ok(leaseId, grant);
    await etcdctl(proc.endpoint, 'put', 'exp/a', '1', `--lease=${leaseId}`);
    await etcdctl(proc.endpoint, 'put', 'exp/b', '2', `--lease=${leaseId}`);
    const before = JSON.parse(await etcdctl(proc.endpoint, 'get', 'exp/', '--prefix', '-w', 'json')) as { header: { revision: number }; count: number };
    assert.equal(before.count, 2);
    // Expiry is the leader's: poll (bounded) until the revoke has been applied.
    let after = before;
    for (let i = 0; i < 100 && after.count !== undefined && after.count > 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = JSON.parse(await etcdctl(proc.endpoint, 'get', 'exp/', '--prefix', '-w', 'json')) as typeof before;
    }
    assert.ok(after.count === undefined || after.count === 0, 'the leased keys are gone');
    assert.equal(after.header.revision, before.header.revision + 1, 'both keys went in one revision');
    const ttl = await etcdctl(proc.endpoint, 'lease', 'timetolive', leaseId);
    assert.match(ttl, /already expired/);
  } finally {
    await proc.stop();
    proc.cleanup();
  }
});
