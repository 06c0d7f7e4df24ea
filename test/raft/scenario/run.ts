// Runs one scenario script: every block's command against a fresh environment, its output
// compared with the expected one. A mismatch fails with the file, the line and a line diff;
// with CONCORD_REWRITE=1 the outputs are written back into the file instead (read the diff!).
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from './args.ts';
import { commands } from './commands.ts';
import { ScenarioEnv } from './env.ts';
import { formatScript, parseScript } from './parse.ts';

/** A line diff of expected vs actual: `-` only expected, `+` only actual, ` ` both. */
export function diffLines(expected: readonly string[], actual: readonly string[]): string[] {
  const n = expected.length;
  const m = actual.length;
  // Longest common subsequence table, from the end.
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] =
        expected[i] === actual[j]
          ? lcs[i + 1]![j + 1]! + 1
          : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push(`  ${expected[i++]}`);
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push(`- ${expected[i++]}`);
    } else {
      out.push(`+ ${actual[j++]}`);
    }
  }
  return out;
}

const CONTEXT_LINES = 3;

/** The diff with unchanged runs cut down to a few lines of context around each change. */
function compactDiff(diff: readonly string[]): string[] {
  const near = diff.map(() => false);
  diff.forEach((line, k) => {
    if (line.startsWith('  ')) return;
    const last = Math.min(diff.length - 1, k + CONTEXT_LINES);
    for (let c = Math.max(0, k - CONTEXT_LINES); c <= last; c++) near[c] = true;
  });
  const out: string[] = [];
  diff.forEach((line, k) => {
    if (near[k]) out.push(line);
    else if (k === 0 || near[k - 1]) out.push('  ...');
  });
  return out;
}

/** The 0-based index of the first expected line that differs from the actual output. */
function firstDifference(expected: readonly string[], actual: readonly string[]): number {
  let k = 0;
  while (k < expected.length && k < actual.length && expected[k] === actual[k]) k++;
  return k;
}

/** Runs the script at `path` (`name` in messages); rewrites its outputs when `rewrite`. */
export function runScript(path: string, name: string, rewrite: boolean): void {
  const script = parseScript(readFileSync(path, 'utf8'), name);
  const env = new ScenarioEnv();
  const outputs: string[][] = [];
  for (const block of script.blocks) {
    const where = `${name}:${block.line}: ${block.command.trim()}`;
    const cmd = new Command(block.command, block.input);
    const handler = commands.get(cmd.name);
    if (handler === undefined) {
      throw new Error(`${where}: unknown command ${JSON.stringify(cmd.name)}`);
    }
    let actual: string[];
    try {
      handler(env, cmd);
      cmd.checkAllUsed();
      actual = env.takeOutput();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${where}: ${message}`, { cause: err });
    }
    if (actual.some((line) => line.trim() === '')) {
      throw new Error(`${where}: output has a blank line`);
    }
    outputs.push(actual);
    if (rewrite) continue;
    if (actual.join('\n') !== block.expected.join('\n')) {
      const separatorLine = block.line + block.input.length + 1;
      const at = separatorLine + 1 + firstDifference(block.expected, actual);
      const diff = compactDiff(diffLines(block.expected, actual)).join('\n');
      const what = `output differs from line ${at} on (- expected, + actual)`;
      throw new Error(`${where}: ${what}:\n${diff}`);
    }
  }
  if (rewrite) {
    const text = formatScript(script, outputs);
    if (text !== readFileSync(path, 'utf8')) writeFileSync(path, text);
  }
}
