// Runs every data-driven Raft scenario in test/raft/testdata/*.txt, one test per file.
// CONCORD_REWRITE=1 regenerates the expected outputs in place; review the diff before keeping it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runScript } from './scenario/run.ts';

const dir = join(import.meta.dirname, 'testdata');
const rewrite = process.env['CONCORD_REWRITE'] === '1';

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`raft scenario - ${file}`, () => {
    runScript(join(dir, file), `test/raft/testdata/${file}`, rewrite);
  });
}
