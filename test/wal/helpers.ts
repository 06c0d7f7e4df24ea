// Shared helpers of the wal tests: temporary directories, entries, quiet logs.
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../src/raft/messages.ts';
import { EntryType } from '../../src/raft/messages.ts';

/** A fresh directory under the OS temp dir; remove it with `removeDir`. */
export function tempDir(): string {
  return fs.mkdtempSync(join(os.tmpdir(), 'concord-wal-'));
}

/** Removes a directory made by `tempDir`. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * An entry whose data names its index and term, `size` bytes long (at least the label), padded
 * with non-zero bytes (so that a zeroed byte anywhere in it is a visible change).
 */
export function entry(index: number, term: number, size = 0): Entry {
  const label = Buffer.from(`e${index}t${term}`);
  const data = new Uint8Array(Math.max(size, label.length)).fill(0x2a);
  data.set(label);
  return { index, term, type: EntryType.Normal, data };
}

/** Entries from..to inclusive, all of one term. */
export function entries(from: number, to: number, term: number, size = 0): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, size));
  return out;
}

/** A log sink that keeps its lines. */
export function collectLog(): { lines: string[]; log: (msg: string) => void } {
  const lines: string[] = [];
  return { lines, log: (msg) => lines.push(msg) };
}

/** The indexes and terms of entries, compactly, for assertions. */
export function ids(list: readonly Entry[]): string[] {
  return list.map((e) => `${e.index}/${e.term}`);
}
