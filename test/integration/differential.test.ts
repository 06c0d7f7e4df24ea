// The differential test: seeded random sequences of puts, deletes, txns, ranges (every option,
// historical, compacted and future revisions), compactions and watches, run against real etcd
// and against concord; every response must match field by field (member_id, cluster_id,
// raft_term and lease ids aside). See differential/runner.ts for how watches are compared.
//
// DIFF_SEEDS=200 runs more seeds (default 10), DIFF_OPS operations per seed (default 300),
// DIFF_SEED_BASE the first seed (default 1). Seeds run in order on one pair of servers. Without
// /usr/bin/etcd the test is skipped locally and fails when CI=true.
import { test } from 'node:test';
import { type ConcordProcess, requireTool, startConcord } from './concord-process.ts';
import { type EtcdProcess, ETCD_BIN, startEtcd } from './etcd-process.ts';
import { Differential } from './differential/runner.ts';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}`);
  }
  return n;
}

const seeds = envInt('DIFF_SEEDS', 10);
const opsPerSeed = envInt('DIFF_OPS', 300);
const seedBase = envInt('DIFF_SEED_BASE', 1);

test(
  `differential - ${seeds} seeds of ${opsPerSeed} operations get the same responses from concord as from etcd`,
  requireTool(ETCD_BIN),
  async (t) => {
    let etcd: EtcdProcess | undefined;
    let concord: ConcordProcess | undefined;
    let diff: Differential | undefined;
    try {
      // Both start at once; whichever started is stopped below even if the other failed.
      const [e, c] = await Promise.allSettled([startEtcd(), startConcord()]);
      if (e.status === 'fulfilled') etcd = e.value;
      if (c.status === 'fulfilled') concord = c.value;
      if (e.status === 'rejected') throw e.reason;
      if (c.status === 'rejected') throw c.reason;
      diff = new Differential(e.value.endpoint, c.value.endpoint);
      await diff.open();
      for (let seed = seedBase; seed < seedBase + seeds; seed++) await diff.runSeed(seed, opsPerSeed);
      const last = seedBase + seeds - 1;
      t.diagnostic(`ran clean: seeds ${seedBase}..${last}, ${diff.opsRun} operations, ${diff.waitedMs} ms waiting for watchers`);
      for (const [what, n] of [...diff.outcomes].sort()) t.diagnostic(`  ${what}: ${n}`);
    } finally {
      diff?.close();
      await Promise.all([etcd?.stop(), concord?.stop()]);
      concord?.cleanup();
    }
  },
);
