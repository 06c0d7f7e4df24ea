// Keeps the arrows of ../shared/DESIGN.md honest: which rooms may import which, and no I/O, clock,
// timers or ambient randomness in the Raft core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function imports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

/** The room (first folder under src/) a file belongs to. */
function room(path: string): string {
  return relative(src, path).split('/')[0]!;
}

// Which rooms each room may import (besides itself and util).
const allowed: Record<string, string[]> = {
  raft: [],
  util: [],
  wal: ['raft'],
  mvcc: [],
  lease: [],
  auth: [],
  transport: ['raft'],
  proto: [],
  config: [],
  client: ['proto'],
  server: ['raft', 'wal', 'mvcc', 'lease', 'auth', 'transport', 'proto', 'config'],
  api: ['server', 'proto', 'mvcc', 'lease', 'auth', 'raft', 'config'],
  cli: ['config', 'server', 'client', 'api', 'proto', 'raft', 'wal', 'mvcc'],
};

test('boundaries - each room imports only the rooms it may', () => {
  const violations: string[] = [];
  for (const file of files(src)) {
    const from = room(file);
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src)) {
        violations.push(`${relative(root, file)} imports ${spec} outside src/`);
        continue;
      }
      const to = room(target);
      if (to === from || to === 'util') continue;
      if (!(allowed[from] ?? []).includes(to)) violations.push(`${relative(root, file)} (${from}) imports ${to}: ${spec}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('boundaries - the raft core has no I/O, clock, timers, process or ambient randomness', () => {
  const forbidden = [
    /from\s+'node:/,
    /\bDate\b/,
    /Math\.random/,
    /\bset(Timeout|Interval|Immediate)\b/,
    /\bprocess\./,
    /\bperformance\b/,
    /\bBuffer\b/,
    /\bawait\b/,
  ];
  const violations: string[] = [];
  for (const file of files(join(src, 'raft')).concat(files(join(src, 'util')))) {
    const text = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '');
    for (const pattern of forbidden) {
      if (pattern.test(text)) violations.push(`${relative(root, file)} matches ${pattern}`);
    }
  }
  assert.deepEqual(violations, []);
});
