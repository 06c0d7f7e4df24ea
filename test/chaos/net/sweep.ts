// Removing test networks by tag: one run's own at teardown or exit, and leftovers of runs that
// died without cleaning up (SIGKILL, a crash of the machine's test job). A tag names its owner's
// pid, so a sweep removes only what belongs to processes that are gone; parallel runs are safe.
// Synchronous on purpose: it also runs in exit handlers, and it is a handful of `ip` calls.
//
// Run by hand: `npx tsx test/chaos/net/sweep.ts [--all]` (--all: also live runs' networks).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { runSync } from './command.ts';
import { isStale, LOCK_DIR, tagOf } from './names.ts';
import { readQuietly, unlinkQuietly } from './subnet.ts';

/** Everything of `tag`: processes in its namespaces (SIGKILL), namespaces, links, its lock. */
export function removeTag(tag: string): string[] {
  return removeWhere((t) => t === tag);
}

/** Removes the networks of every dead run (all runs with `all`); what it removed. */
export function sweepStale(options: { all?: boolean } = {}): string[] {
  return removeWhere((tag) => options.all === true || isStale(tag));
}

function removeWhere(matches: (tag: string) => boolean): string[] {
  const removed: string[] = [];
  const chosen = (name: string): boolean => {
    const tag = tagOf(name);
    return tag !== undefined && matches(tag);
  };
  const namespaces = listNamespaces().filter(chosen);
  for (const namespace of namespaces) {
    for (const pid of namespacePids(namespace)) killQuietly(pid);
  }
  for (const namespace of namespaces) {
    if (runSync('ip', ['netns', 'del', namespace]) === undefined) removed.push(namespace);
  }
  // Bridges, and veths whose namespace lingers (a process in it not yet reaped).
  for (const link of listLinks().filter(chosen)) {
    if (runSync('ip', ['link', 'del', link]) === undefined) removed.push(link);
  }
  for (const file of listLocks()) {
    const holder = readQuietly(join(LOCK_DIR, file));
    if (holder !== '' && matches(holder)) {
      unlinkQuietly(join(LOCK_DIR, file));
      removed.push(join(LOCK_DIR, file));
    }
  }
  return removed;
}

function listNamespaces(): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (out.stdout ?? '').split('\n').map((line) => line.split(' ')[0]!).filter((n) => n !== '');
}

function namespacePids(namespace: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' });
  return (out.stdout ?? '').split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

function listLinks(): string[] {
  const out = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return [...(out.stdout ?? '').matchAll(/^\d+:\s+([^:@\s]+)/gm)].map((m) => m[1]!);
}

function listLocks(): string[] {
  try {
    return readdirSync(LOCK_DIR).filter((name) => name.startsWith('subnet-'));
  } catch {
    return [];
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const removed = sweepStale({ all: process.argv.includes('--all') });
  console.log(removed.length === 0 ? 'nothing to remove' : removed.join('\n'));
}
