// The multi-version key space on LMDB, etcd's mvcc store: write transactions at revisions,
// ranges at any uncompacted revision, compaction, hashKV, history for watchers, snapshots.
// Invariants: currentRevision grows by one per write txn that changed something; everything of
// one batch, consistent index included, commits in one LMDB transaction; memory holds no keys.
//
// LMDB layout (one environment, four named databases; all integers big-endian):
//
//   revs   [main u64][sub u64]                       → mvccpb.KeyValue bytes (etcd's encoding;
//          (the history, in revision order:            a tombstone is { key } alone)
//           watch replay, compaction, hashKV)
//
//   index  [escaped key][00 01][main u64][sub u64]   → [0 put | 1 tombstone]
//          (every revision of every key, ordered by key bytes then revision; escaping turns
//           00 into 00 FF so no key's bytes run into the revision: "a" < "a\0" < "a\xff" holds)
//
//   live   [raw key]                                 → [main][sub][createRev][version][lease i64]
//          (keys that exist now: current-revision ranges and puts read only this)
//
//   meta   "currentRevision" | "compactRevision" | "finishedCompactRevision" | "consistentIndex"
//                                                    → u64
//
//   put k=v at (7,0):   revs[7,0]=KV   index[k,7,0]=0   live[k]=(7,0,create,ver,lease)
//   delete k at (9,1):  revs[9,1]={k}  index[k,9,1]=1   live[k] removed
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assert } from '../util/assert.ts';
import { Backend, MetaKey } from './backend.ts';
import type { BackendOptions } from './backend.ts';
import { compactChunk, compactionChunkEntries } from './compaction.ts';
import { encodeRevision } from './encoding.ts';
import { MvccError, MvccErrorCode } from './errors.ts';
import { hashKeyValues } from './hash.ts';
import type { KeyValueHash } from './hash.ts';
import { readHistory } from './history.ts';
import type { HistoryBatch, HistoryOptions } from './history.ts';
import { rangeKeys } from './read.ts';
import type { Event, RangeOptions, RangeResult, WriteResult } from './types.ts';
import { WriteTxn } from './write-txn.ts';
import { AuxTable, type AuxTableName } from './aux-table.ts';

/** Options of Store.open. */
export interface StoreOptions extends BackendOptions {
  /** History entries per compaction transaction (default 1000). */
  compactionChunkEntries?: number;
}

/** Sizes and revisions of the store, for etcd's Status. */
export interface StoreStatus {
  /** Size of the database file in bytes (etcd's dbSize). */
  sizeBytes: number;
  /** Bytes of pages holding data (etcd's dbSizeInUse); the rest is free space for reuse. */
  sizeInUseBytes: number;
  revision: number;
  compactRevision: number;
  consistentIndex: number;
}

/** What a snapshot copy holds. */
export interface SnapshotInfo {
  /** The copied database file. */
  path: string;
  sizeBytes: number;
  revision: number;
  consistentIndex: number;
}

interface State {
  current: number;
  compacted: number;
  /** No compaction ever (etcd's compactMainRev of -1): compacting at revision 0 is allowed once. */
  neverCompacted: boolean;
  consistentIndex: number;
}

/** The key space. Synchronous reads and writes; compaction and copies run in the background. */
export class Store {
  #backend: Backend;
  readonly #path: string;
  readonly #options: StoreOptions;
  #state: State;
  #batchDepth = 0;
  #compaction: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #busy = false;
  readonly #aux = new Map<AuxTableName, AuxTable>();

  private constructor(path: string, options: StoreOptions) {
    this.#path = path;
    this.#options = options;
    this.#backend = new Backend(path, options);
    this.#state = this.#loadState();
  }

  /** Opens (or creates) the store in directory `path`; resumes an unfinished compaction. */
  static open(path: string, options: StoreOptions = {}): Store {
    mkdirSync(path, { recursive: true });
    const store = new Store(path, options);
    const finished = store.#backend.getMeta(MetaKey.finishedCompactRevision);
    if (store.#state.compacted > finished) {
      // A failure here is a bug; left unhandled, it stops the process.
      void store.#scheduleCompaction(store.#state.compacted);
    }
    return store;
  }

  #loadState(): State {
    const b = this.#backend;
    return {
      // As etcd, an empty store is at revision 1: the first write is revision 2.
      current: Math.max(1, b.getMeta(MetaKey.currentRevision)),
      compacted: b.getMeta(MetaKey.compactRevision),
      neverCompacted: b.meta.get(MetaKey.compactRevision) === undefined,
      consistentIndex: b.getMeta(MetaKey.consistentIndex),
    };
  }

  /** True while defragment() or restoreFrom() has the database closed. */
  get offline(): boolean {
    return this.#busy;
  }

  /** The newest revision; 1 for an empty store, as etcd. */
  get currentRevision(): number {
    return this.#state.current;
  }

  /** Ranges below this revision fail; 0 when never compacted. */
  get compactRevision(): number {
    return this.#state.compacted;
  }

  /** The Raft index of the last applied entry that was written with this store. */
  get consistentIndex(): number {
    return this.#state.consistentIndex;
  }

  /** etcd's mvcc Range at options.revision (0: current). Throws MvccError. */
  range(key: Uint8Array, rangeEnd?: Uint8Array, options: RangeOptions = {}): RangeResult {
    this.#checkUsable();
    const view = { current: this.#state.current, compacted: this.#state.compacted };
    return rangeKeys(this.#backend, view, { key, rangeEnd, options });
  }

  /**
   * Runs one write transaction at revision current + 1 and records `consistentIndex` with it.
   * Outside batch() it commits its own LMDB transaction; inside, it joins the batch's. A throw
   * from `fn` aborts the whole LMDB transaction (the batch too): treat it as fatal.
   */
  write<T>(consistentIndex: number, fn: (txn: WriteTxn) => T): WriteResult<T> {
    this.#checkUsable();
    assert(
      consistentIndex >= this.#state.consistentIndex,
      () => `mvcc: consistent index went back: ${this.consistentIndex} → ${consistentIndex}`,
    );
    return this.batch(() => {
      const b = this.#backend;
      const txn = new WriteTxn(b, this.#state.current, this.#state.compacted);
      let events: Event[];
      let result: T;
      try {
        result = fn(txn);
      } finally {
        events = txn.end();
      }
      assert(!isThenable(result), 'mvcc: a write txn callback must be synchronous');
      if (events.length > 0) {
        this.#state.current++;
        b.putMeta(MetaKey.currentRevision, this.#state.current);
      }
      if (consistentIndex !== this.#state.consistentIndex) {
        this.#state.consistentIndex = consistentIndex;
        b.putMeta(MetaKey.consistentIndex, consistentIndex);
      }
      return { result, revision: this.#state.current, events };
    });
  }

  /**
   * Runs `fn` in one LMDB write transaction: every write() and compact() inside commits together
   * (one commit per apply batch). Nested calls join the outer batch. A throw aborts it all.
   */
  batch<T>(fn: () => T): T {
    this.#checkUsable();
    if (this.#batchDepth > 0) return fn();
    const before = { ...this.#state };
    this.#batchDepth++;
    try {
      return this.#backend.transaction(fn);
    } catch (error) {
      this.#state = before;
      throw error;
    } finally {
      this.#batchDepth--;
    }
  }

  /**
   * Compacts history below `revision` (etcd's Compact). Validates and records it at once (in the
   * current batch, if any): ranges below `revision` fail from now on. The physical removal runs
   * in chunks in the background; `done` settles when it is finished.
   */
  compact(revision: number): { done: Promise<void> } {
    this.#checkUsable();
    const { current, compacted } = this.#state;
    // NB: etcd starts at compactMainRev -1, so its first compaction may be at revision 0.
    if (revision <= compacted && !(revision === 0 && this.#state.neverCompacted)) {
      throw this.#compactedError();
    }
    if (revision > current) {
      throw this.#futureError();
    }
    this.batch(() => {
      this.#state.compacted = revision;
      this.#state.neverCompacted = false;
      this.#backend.putMeta(MetaKey.compactRevision, revision);
    });
    return { done: this.#scheduleCompaction(revision) };
  }

  #scheduleCompaction(revision: number): Promise<void> {
    const chunkEntries = this.#options.compactionChunkEntries ?? compactionChunkEntries;
    const run = async (): Promise<void> => {
      let from: Buffer | undefined = encodeRevision(0, 0);
      while (from !== undefined) {
        if (this.#closing !== undefined) return; // resumed on the next open
        const start: Buffer = from;
        from = this.#backend.transaction(() =>
          compactChunk(this.#backend, { compactRev: revision, from: start, chunkEntries }),
        );
        if (from !== undefined) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    this.#compaction = this.#compaction.then(run);
    return this.#compaction;
  }

  /**
   * Sets the consistent index (the Raft index applied) to `index`: when a restored snapshot
   * starts a new cluster whose log begins again (concord snapshot restore).
   */
  resetConsistentIndex(index: number): void {
    this.#checkUsable();
    this.batch(() => this.#backend.putMeta(MetaKey.consistentIndex, index));
    this.#state.consistentIndex = index;
  }

  /** A side table (leases, members, alarms) in this environment; its writes join batch(). */
  auxTable(name: AuxTableName): AuxTable {
    this.#checkUsable();
    let table = this.#aux.get(name);
    if (table === undefined) {
      table = new AuxTable(this.#backend.root, name);
      this.#aux.set(name, table);
    }
    return table;
  }

  /** etcd's HashKV: the hash of history up to `revision` (0: current). Throws MvccError. */
  hashKV(revision = 0): KeyValueHash {
    this.#checkUsable();
    const { current, compacted } = this.#state;
    if (revision > 0 && revision < compacted) {
      throw this.#compactedError();
    }
    if (revision > current) {
      throw this.#futureError();
    }
    const at = revision === 0 ? current : revision;
    const revisions = { revision: at, compactRevision: compacted, current };
    const hash = hashKeyValues(this.#backend, revisions);
    // etcd reports -1 until the first compaction.
    return this.#state.neverCompacted ? { ...hash, compactRevision: -1 } : hash;
  }

  /**
   * Events from main revision `startRevision` on, in revision order, for watchers catching up.
   * Fails with `compacted` when startRevision < compactRevision (etcd's watch rule; compaction
   * keeps a tombstone at exactly the compact revision, so history from it on is complete).
   */
  eventsSince(startRevision: number, options: HistoryOptions = {}): HistoryBatch {
    this.#checkUsable();
    const { current, compacted } = this.#state;
    if (startRevision < compacted) {
      throw this.#compactedError();
    }
    const endRevision = Math.min(options.endRevision ?? current, current);
    if (startRevision > endRevision) {
      return { events: [], nextRevision: Math.max(startRevision, 1) };
    }
    return readHistory(this.#backend, Math.max(startRevision, 1), { ...options, endRevision, compactRevision: compacted });
  }

  /** Copies a consistent snapshot of the database into directory `dir` (created if needed). */
  async snapshot(dir: string, options: { compact?: boolean } = {}): Promise<SnapshotInfo> {
    this.#checkUsable();
    mkdirSync(dir, { recursive: true });
    await this.#backend.copyTo(dir, options.compact === true);
    // Read the copy's own meta: writes may have landed between this call and the copy's start.
    const copy = new Backend(dir, { syncMode: 'durable' });
    try {
      const { sizeBytes } = copy.sizes();
      return {
        path: join(dir, 'data.mdb'),
        sizeBytes,
        revision: copy.getMeta(MetaKey.currentRevision),
        consistentIndex: copy.getMeta(MetaKey.consistentIndex),
      };
    } finally {
      await copy.close();
    }
  }

  /**
   * Replaces the whole database with the LMDB file at `dbFile` (a snapshot received from the
   * leader), which is moved into place: everything, side tables and the consistent index
   * included, then comes from it. As defragment(), await it with the apply loop paused.
   */
  async restoreFrom(dbFile: string): Promise<void> {
    this.#checkUsable();
    this.#busy = true;
    try {
      await this.#compaction;
      await this.#backend.close();
      rmSync(join(this.#path, 'lock.mdb'), { force: true });
      renameSync(dbFile, join(this.#path, 'data.mdb'));
      this.#backend = new Backend(this.#path, this.#options);
      this.#aux.clear();
      this.#state = this.#loadState();
      const finished = this.#backend.getMeta(MetaKey.finishedCompactRevision);
      if (this.#state.compacted > finished) void this.#scheduleCompaction(this.#state.compacted);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Rewrites the database file without free pages (etcd's defrag). Every other call fails with
   * `closed` until it finishes, as etcd blocks the store meanwhile; await it in the apply loop.
   */
  async defragment(): Promise<void> {
    this.#checkUsable();
    this.#busy = true;
    try {
      await this.#compaction;
      const tmp = `${this.#path}.defrag`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      await this.#backend.copyTo(tmp, true);
      await this.#backend.close();
      renameSync(join(tmp, 'data.mdb'), join(this.#path, 'data.mdb'));
      rmSync(tmp, { recursive: true, force: true });
      this.#backend = new Backend(this.#path, this.#options);
      // NB: the side tables were opened on the closed environment: reopen them on first use.
      this.#aux.clear();
      this.#state = this.#loadState();
    } finally {
      this.#busy = false;
    }
  }

  /** Sizes and revisions. */
  status(): StoreStatus {
    this.#checkUsable();
    const { current, compacted, consistentIndex } = this.#state;
    const sizes = this.#backend.sizes();
    return { ...sizes, revision: current, compactRevision: compacted, consistentIndex };
  }

  /** Flushes every commit to disk (a checkpoint, e.g. before the WAL is cut). */
  async sync(): Promise<void> {
    this.#checkUsable();
    await this.#backend.sync();
  }

  /** Stops background compaction (resumed on the next open) and closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#compaction;
      await this.#backend.close();
    })();
    return this.#closing;
  }

  #compactedError(): MvccError {
    const { current, compacted } = this.#state;
    return new MvccError(MvccErrorCode.compacted, {
      compactRevision: compacted,
      currentRevision: current,
    });
  }

  #futureError(): MvccError {
    return new MvccError(MvccErrorCode.futureRevision, { currentRevision: this.#state.current });
  }

  #checkUsable(): void {
    if (this.#closing !== undefined || this.#busy) {
      const detail = this.#busy ? 'defragmenting' : 'closed';
      throw new MvccError(MvccErrorCode.closed, { detail });
    }
  }
}

function isThenable(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return typeof (value as { then?: unknown }).then === 'function';
}
