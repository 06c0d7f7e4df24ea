// The harness catches real bugs: concord started with a test-only switch that breaks a promise —
// acknowledging writes before they are durable, or serving linearizable reads without ReadIndex —
// must make a chaos run report a violation. A few seeds are tried, since a bug shows only when a
// fault meets it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from './run.ts';
import { type RunReport, formatReport as reportText } from './report.ts';
import type { FaultKind } from './types.ts';
import type { WorkloadName } from './workloads/workload.ts';

interface Case {
  name: string;
  env: string;
  faults: FaultKind[];
  workloads: WorkloadName[];
}

const cases: Case[] = [
  {
    name: 'a member that acknowledges writes before they are durable loses acknowledged writes',
    env: 'CONCORD_UNSAFE_ACK_BEFORE_DURABLE',
    // An isolated or killed leader that acknowledged writes alone takes them with it.
    faults: ['partition-leader', 'kill-leader', 'kill-majority'],
    workloads: ['register', 'append', 'watch'],
  },
  {
    name: 'a member that serves reads without ReadIndex serves stale reads',
    env: 'CONCORD_UNSAFE_READS_WITHOUT_READINDEX',
    // A lagging follower, a cut-off minority or a deposed leader answers from its own state.
    faults: ['partition-leader', 'partition-majority', 'pause-leader'],
    workloads: ['register'],
  },
];

const ATTEMPTS = 4;

for (const c of cases) {
  test(`unsafe switch - ${c.name}`, { timeout: 1_200_000 }, async (t) => {
    const reports: RunReport[] = [];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const report = await run({
        target: 'concord',
        members: 3,
        seed: 0xbad0 + attempt,
        timeSeconds: 30,
        quietSeconds: 3,
        faults: c.faults,
        workloads: c.workloads,
        env: { [c.env]: '1' },
      });
      reports.push(report);
      if (report.result === 'violation') {
        for (const line of reportText(report).split('\n')) t.diagnostic(line);
        return;
      }
    }
    assert.fail(`no violation found in ${ATTEMPTS} runs with ${c.env}=1:\n` +
      reports.map((r) => reportText(r)).join('\n\n'));
  });
}
