// A run's report: what ran, what was injected when, what each checker concluded, and on a
// violation the window of history that shows it with the seed that replays the schedule.
import type { Verdict } from './checkers/verdict.ts';
import type { OutcomeCounts } from './history.ts';
import type { FaultRecord } from './nemesis.ts';
import type { FaultKind, TargetKind } from './types.ts';

/** The overall result; `harness-error` means the run could not be judged (a fault failed to
 * inject, a final read never succeeded), which is not evidence of a violation. */
export type RunResult = 'ok' | 'violation' | 'inconclusive' | 'harness-error';

/** Everything a run reports. */
export interface RunReport {
  target: TargetKind;
  members: number;
  seed: number;
  timeSeconds: number;
  workloads: string[];
  faultKinds: FaultKind[];
  startedAt: string;
  durationMs: number;
  ops: Record<string, OutcomeCounts>;
  schedule: string[];
  faults: FaultRecord[];
  verdicts: Verdict[];
  harnessErrors: string[];
  result: RunResult;
  workDir: string;
  reproduce: string;
}

/** The result from verdicts and harness errors: any violation wins. */
export function overallResult(
  verdicts: readonly Verdict[],
  harnessErrors: readonly string[],
): RunResult {
  if (verdicts.some((v) => v.result === 'violation')) return 'violation';
  if (harnessErrors.length > 0) return 'harness-error';
  if (verdicts.some((v) => v.result === 'inconclusive')) return 'inconclusive';
  return 'ok';
}

/** The exit code of the CLI for a result. */
export function exitCodeOf(result: RunResult): number {
  return { ok: 0, violation: 1, 'harness-error': 2, inconclusive: 3 }[result];
}

/** Window lines longer than this are cut (a list read can be thousands of characters). */
const LINE_CHARS_MAX = 400;
const clip = (line: string): string =>
  line.length <= LINE_CHARS_MAX ? line : `${line.slice(0, LINE_CHARS_MAX)}… (${line.length} chars)`;

const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)}s` : '?');

/** The report as text. */
export function formatReport(r: RunReport): string {
  const lines: string[] = [];
  lines.push(`chaos run: ${r.target}, ${r.members} members, seed ${r.seed}, ${r.timeSeconds}s ` +
    `(took ${seconds(r.durationMs)}), workloads ${r.workloads.join(' ')}`);
  lines.push('operations:');
  for (const [workload, c] of Object.entries(r.ops)) {
    const total = c.ok + c.failed + c.unknown;
    lines.push(`  ${workload.padEnd(9)} ${String(total).padStart(7)} total  ${String(c.ok).padStart(7)} ok  ` +
      `${String(c.failed).padStart(6)} failed  ${String(c.unknown).padStart(5)} unknown`);
  }
  lines.push(`faults (${r.faults.length}):`);
  for (const f of r.faults) {
    lines.push(`  ${seconds(f.injectedMs).padStart(7)} → ${seconds(f.healedMs).padStart(7)}  #${f.index} ` +
      `${f.action || f.kind}${f.error === undefined ? '' : `  HARNESS ERROR: ${f.error}`}`);
  }
  lines.push('verdicts:');
  for (const v of r.verdicts) lines.push(`  ${v.checker.padEnd(9)} ${v.result.toUpperCase()}: ${v.summary}`);
  for (const v of r.verdicts) {
    for (const violation of v.violations) {
      const { fromMs, toMs } = violation;
      const span = fromMs === undefined ? '' : ` [${seconds(fromMs)} – ${seconds(toMs ?? fromMs)}]`;
      lines.push('', `${v.checker}: ${violation.kind}${span}: ${violation.message}`);
      for (const w of violation.window) lines.push(`    ${clip(w)}`);
    }
  }
  for (const e of r.harnessErrors) lines.push(`harness error: ${e}`);
  lines.push('', `result: ${r.result.toUpperCase()}`);
  if (r.result !== 'ok') lines.push(`seed ${r.seed}; replay the schedule with: ${r.reproduce}`);
  lines.push(`history, logs and report in ${r.workDir}`);
  return lines.join('\n');
}
