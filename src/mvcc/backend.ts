// The LMDB environment under the store: four named databases (layout in store.ts) and the meta
// numbers. Owns opening, the one-write-transaction-at-a-time rule, size statistics and copying.
import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';
import { statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How commits reach the disk. See bench/mvcc.ts for what each costs. The WAL is the durability
 * point and replay is idempotent (consistent index), so the default is `deferred`: call sync()
 * at checkpoints (every ~100 ms, as etcd's backend batch interval, and before a WAL cut).
 */
export const SyncMode = {
  /**
   * Commit without fsync; lmdb-js flushes in the background (overlappingSync) keeping the file
   * consistent even after an OS crash. A commit waits for the previous flush: one fsync per
   * commit on the critical path (~100 commits/s measured under load), so only with big batches.
   */
  overlapping: 'overlapping',
  /**
   * Commit without any flush (LMDB MDB_NOSYNC per txn); call `sync()` at checkpoints. Fastest;
   * a process crash loses nothing, an OS crash may lose recent commits (the WAL replays them),
   * and on a file system that reorders writes may damage the file (then restore a snapshot).
   */
  deferred: 'deferred',
  /** fsync every commit. Slow; for tests of durability only. */
  durable: 'durable',
} as const;
/** One of SyncMode's values. */
export type SyncMode = (typeof SyncMode)[keyof typeof SyncMode];

/** Meta keys, each holding a u64 BE number. */
export const MetaKey = {
  currentRevision: Buffer.from('currentRevision'),
  compactRevision: Buffer.from('compactRevision'),
  finishedCompactRevision: Buffer.from('finishedCompactRevision'),
  consistentIndex: Buffer.from('consistentIndex'),
} as const;

/** Options of Backend.open. */
export interface BackendOptions {
  syncMode?: SyncMode;
  /** Initial size of the memory map in bytes; LMDB grows it as needed. */
  mapSizeBytes?: number;
}

// lmdb-js transactionSync flags: abortable, synchronous commit, and "no sync flush" (MDB_NOSYNC).
const txnAbortable = 1;
const txnSynchronousCommit = 2;
const txnNoSyncFlush = 0x10000;

type Bytes = Database<Buffer, Buffer>;

/** The opened LMDB environment and its databases. */
export class Backend {
  readonly root: RootDatabase<Buffer, Buffer>;
  /** revision (16) → mvccpb.KeyValue bytes: the whole history, in revision order. */
  readonly revs: Bytes;
  /** escaped key + revision (16) → 1 byte (0 put, 1 tombstone): each key's revisions. */
  readonly index: Bytes;
  /** raw key → live record (40): the latest revision of every key that exists now. */
  readonly live: Bytes;
  /** name → u64: current/compact revisions, consistent index. */
  readonly meta: Bytes;
  readonly path: string;
  readonly #txnFlags: number;

  constructor(path: string, options: BackendOptions = {}) {
    const mode = options.syncMode ?? SyncMode.deferred;
    this.path = path;
    this.root = open<Buffer, Buffer>({
      path,
      maxDbs: 16,
      mapSize: options.mapSizeBytes ?? 256 * 1024 * 1024,
      overlappingSync: mode === SyncMode.overlapping,
      keyEncoding: 'binary',
      encoding: 'binary',
    });
    const sub = (name: string): Bytes =>
      this.root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
    this.revs = sub('revs');
    this.index = sub('index');
    this.live = sub('live');
    this.meta = sub('meta');
    this.#txnFlags =
      txnAbortable |
      txnSynchronousCommit |
      (mode === SyncMode.durable ? 0 : txnNoSyncFlush);
  }

  /** Runs `fn` in one synchronous LMDB write transaction; a throw aborts it. */
  transaction<T>(fn: () => T): T {
    return this.root.transactionSync(fn, this.#txnFlags);
  }

  /** Reads a meta number (0 when absent). */
  getMeta(key: Buffer): number {
    const buf = this.meta.get(key);
    if (buf === undefined) return 0;
    return buf.readUInt32BE(0) * 0x1_0000_0000 + buf.readUInt32BE(4);
  }

  /** Writes a meta number; call inside transaction(). */
  putMeta(key: Buffer, n: number): void {
    const buf = Buffer.allocUnsafe(8);
    buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 0);
    buf.writeUInt32BE(n >>> 0, 4);
    this.meta.putSync(key, buf);
  }

  /** The largest key LMDB accepts, in bytes. */
  get maxKeyBytes(): number {
    return (this.root as unknown as { maxKeySize: number }).maxKeySize;
  }

  /** Flushes every commit so far to disk. */
  async sync(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const env = this.root as unknown as { sync(cb: (e: unknown) => void): void };
      env.sync((error) => (error ? reject(error as Error) : resolve()));
    });
  }

  /** Size of the data file, and of the pages our databases use in it. */
  sizes(): { sizeBytes: number; sizeInUseBytes: number } {
    const sizeBytes = statSync(join(this.path, 'data.mdb')).size;
    let pages = 4; // two meta pages, plus the roots of the main and free databases
    let pageSize = 4096;
    for (const db of [this.root, this.revs, this.index, this.live, this.meta]) {
      const s = db.getStats() as {
        pageSize: number;
        treeBranchPageCount: number;
        treeLeafPageCount: number;
        overflowPages: number;
      };
      pageSize = s.pageSize;
      pages += s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    }
    return { sizeBytes, sizeInUseBytes: Math.min(sizeBytes, pages * pageSize) };
  }

  /** Copies a consistent snapshot of the environment into `dir` (which must exist). */
  async copyTo(dir: string, compact: boolean): Promise<void> {
    await this.root.backup(dir, compact);
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
