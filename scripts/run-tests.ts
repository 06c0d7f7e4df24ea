// Runs every `*.test.ts` under test/ with node's own test runner (through tsx).
// Arguments narrow the run: any test file whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2);
const root = join(import.meta.dirname, '..');
const files = findTests(join(root, 'test'))
  .map((path) => relative(root, path))
  .filter((path) => filters.length === 0 || filters.some((f) => path.includes(f)));
if (files.length === 0) {
  console.error(`run-tests: no test file matches ${JSON.stringify(filters)}`);
  process.exit(1);
}
// Two test files at a time: most integration tests wait on processes and timers, not the CPU,
// and the suite must stay well inside CI's budget on a 2-core machine.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
