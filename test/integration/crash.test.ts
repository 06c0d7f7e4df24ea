// Crash safety of a durable member: a real concord under a concurrent write load is killed with
// SIGKILL — at a random moment, and at each failpoint of the Ready loop, the apply, the WAL cut
// and the snapshot — then restarted on the same data dir. Every acknowledged write must be there
// at its revision, no txn half-applied, revisions gap-free and never reused, new writes must
// continue after the last revision, and HashKV must survive one more clean restart.
// Each data dir goes through its kill points in turn, so every check covers all earlier rounds.
import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConcordProcess } from './concord-process.ts';
import {
  CrashClient, History, type KillPoint, type Op, checkAgainstHistory, crashUnderLoad,
  startCrashConcord,
} from './crash-harness.ts';

/** A random count of acknowledged writes in [150, 600): a moment in the middle of the load. */
function randomMoment(): number {
  return 150 + Math.floor(Math.random() * 450);
}

// Ready-level failpoints are hit about once per Ready (a few writes each under this load):
// hit 100 comes a few hundred writes in. Snapshots come every 200 entries (--snapshot-count)
// and segment cuts every ~250 writes (64 KiB segments): their 2nd hit is mid-load too (the 1st
// may come at startup). Two data dirs go through the kill points side by side.
const CHAINS: KillPoint[][] = [
  [
    { name: 'a random moment (1)', killAfterAcks: randomMoment() },
    { name: 'raftBeforeSave', failpoints: 'raftBeforeSave=crash@100' },
    { name: 'raftAfterSave', failpoints: 'raftAfterSave=crash@100' },
    { name: 'beforeApplyBatch', failpoints: 'beforeApplyBatch=crash@100' },
    { name: 'backendBeforeCommit', failpoints: 'backendBeforeCommit=crash@100' },
    { name: 'afterApplyBatch', failpoints: 'afterApplyBatch=crash@100' },
  ],
  [
    { name: 'a random moment (2)', killAfterAcks: randomMoment() },
    { name: 'walBeforeCut', failpoints: 'walBeforeCut=crash@2' },
    { name: 'walAfterCut', failpoints: 'walAfterCut=crash@2' },
    { name: 'beforeSnapshot', failpoints: 'beforeSnapshot=crash@2' },
    { name: 'snapshotBeforeMark', failpoints: 'snapshotBeforeMark=crash@2' },
    { name: 'afterSnapshotBeforeWalPurge', failpoints: 'afterSnapshotBeforeWalPurge=crash@2' },
    { name: 'a random moment (3)', killAfterAcks: randomMoment() },
  ],
];

const PREFIX = 'crash/';

test(
  'crash - acknowledged writes survive SIGKILL at every kill point, and revisions continue',
  { concurrency: true },
  async (t) => {
    await Promise.all(
      CHAINS.map((points, i) => t.test(`data dir ${i + 1}`, (st) => runChain(st, points))),
    );
  },
);

/**
 * Takes one data dir through `points` in turn: load, crash, restart, check, write once more, then
 * a clean restart (armed for the next point) that must find the same HashKV. Stops at a failure,
 * keeping the data dir.
 */
async function runChain(t: TestContext, points: KillPoint[]): Promise<void> {
  const history = new History();
  let proc = await startCrashConcord({ failpoints: points[0]!.failpoints ?? '' });
  const dataDir = proc.dataDir;
  let failed = false;
  try {
    for (let i = 0; i < points.length; i++) {
      const point = points[i]!;
      await t.test(`kill at ${point.name}`, async (st) => {
        if (failed) return st.skip('an earlier kill point failed');
        failed = true;
        await crashUnderLoad(proc, point, { history, prefix: `${PREFIX}r${i}/` });
        proc = await startCrashConcord({ dataDir });
        const probe = await checkRestarted(proc, history, `${PREFIX}r${i}/probe`);
        assert.equal(await proc.stop(), 0, proc.logs());
        proc = await startCrashConcord({ dataDir, failpoints: points[i + 1]?.failpoints ?? '' });
        const client = new CrashClient(proc.endpoint);
        try {
          assert.deepEqual(await client.hashKV(probe.revision), probe);
          assert.equal((await client.rangePrefix(PREFIX)).revision, probe.revision);
        } finally {
          client.close();
        }
        failed = false;
      });
    }
  } finally {
    await proc.kill9();
    if (!failed) proc.cleanup();
    else t.diagnostic(`data dir kept for inspection: ${dataDir}`);
  }
}

/** Checks the restarted member, then writes once more; the HashKV at that write's revision. */
async function checkRestarted(
  proc: ConcordProcess, history: History, probeKey: string,
): Promise<{ hash: number; revision: number }> {
  const client = new CrashClient(proc.endpoint);
  try {
    const revision = await checkAgainstHistory(client, history, PREFIX);
    const highestAcked = Math.max(0, ...history.acked().map((op) => op.ackedRevision!));
    assert.ok(highestAcked <= revision, `acknowledged ${highestAcked} is past ${revision}`);
    const probe: Op = { keys: [probeKey], value: 'after the crash' };
    history.add(probe);
    probe.ackedRevision = await client.put(probeKey, probe.value);
    assert.equal(probe.ackedRevision, revision + 1, 'the first write after the restart');
    return await client.hashKV(probe.ackedRevision);
  } finally {
    client.close();
  }
}
