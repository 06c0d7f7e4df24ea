// Shared helpers of the mvcc tests: stores in temporary directories, and bytes from strings.
// Every store opened here is closed and its directory removed by the test's cleanup.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { open } from 'lmdb';
import { decodeKeyValue, decodeRevision } from '../../src/mvcc/encoding.ts';
import { Store } from '../../src/mvcc/index.ts';
import type { KeyValue, StoreOptions } from '../../src/mvcc/index.ts';

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'concord-mvcc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store in a fresh temporary directory, closed and removed when the test ends. */
export function openStore(t: TestContext, options: StoreOptions = {}): { store: Store; dir: string } {
  const dir = tempDir(t);
  const store = Store.open(dir, options);
  t.after(() => store.close());
  return { store, dir };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export const b = (s: string): Uint8Array => encoder.encode(s);
/** A string of UTF-8 bytes. */
export const s = (bytes: Uint8Array): string => decoder.decode(bytes);
/** The one zero byte that means "every key from here" as a range end. */
export const zero = new Uint8Array([0]);

/** A KeyValue as a compact comparable tuple: [key, value, create, mod, version]. */
export function row(kv: KeyValue): [string, string, number, number, number] {
  return [s(kv.key), s(kv.value), kv.createRevision, kv.modRevision, kv.version];
}

/** Puts each [key, value] in its own write txn, consistent index counting up from the store's. */
export function putEach(store: Store, pairs: [string, string][]): void {
  for (const [k, v] of pairs) {
    store.write(store.consistentIndex + 1, (txn) => txn.put(b(k), b(v)));
  }
}

/**
 * Every history record in the closed store at `dir`, as "main.sub TYPE key" — what is physically
 * left, compacted records included, read straight from LMDB.
 */
export async function rawHistory(dir: string): Promise<string[]> {
  const root = open({ path: dir, maxDbs: 8, readOnly: true });
  try {
    const revs = root.openDB<Buffer, Buffer>({ name: 'revs', keyEncoding: 'binary', encoding: 'binary' });
    const rows: string[] = [];
    for (const { key, value } of revs.getRange({ start: Buffer.alloc(1) })) {
      const { main, sub } = decodeRevision(key);
      const kv = decodeKeyValue(value);
      rows.push(`${main}.${sub} ${kv.modRevision === 0 ? 'DELETE' : 'PUT'} ${s(kv.key)}`);
    }
    return rows;
  } finally {
    await root.close();
  }
}
