// The backend's part of a Raft snapshot: the LMDB file a leader streams to a member that is too far
// behind, kept as <snap-dir>/<index, 16 hex digits>.snap.db (etcd's name) until it replaces the
// member's key space. Written to a temporary name, synced, then renamed: a file with the final
// name is always complete, so a member that crashes between saving the snapshot and moving the
// file into place finishes the job on restart.
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Store } from '../mvcc/index.ts';

const SUFFIX = '.snap.db';
/** Bytes per chunk read from a backend copy. */
const READ_CHUNK_BYTES = 256 * 1024;

export function snapshotDbPath(snapDir: string, index: number): string {
  return join(snapDir, `${index.toString(16).padStart(16, '0')}${SUFFIX}`);
}

/** Saves a received database body as the file of snapshot `index`; returns its path. */
export async function saveSnapshotDb(snapDir: string, index: number, body: AsyncIterable<Uint8Array>): Promise<string> {
  const path = snapshotDbPath(snapDir, index);
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    for await (const chunk of body) await file.write(chunk);
    await file.datasync();
  } catch (err) {
    await file.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  await rename(tmp, path);
  const dir = await open(snapDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return path;
}

/** Removes snapshot database files (and leftovers of unfinished ones) of index ≤ `upTo`. */
export async function purgeSnapshotDbs(snapDir: string, upTo: number): Promise<void> {
  for (const name of await readdir(snapDir)) {
    const m = /^([0-9a-f]{16})\.snap\.db(\.tmp)?$/.exec(name);
    if (m === null) continue;
    if (m[2] !== undefined || parseInt(m[1]!, 16) <= upTo) await rm(join(snapDir, name), { force: true });
  }
}

/** A consistent copy of the backend, for streaming to a peer; `dispose` removes it. */
export interface BackendCopy {
  /** The Raft index the copy has applied. */
  consistentIndex: number;
  sizeBytes: number;
  chunks(): AsyncIterable<Uint8Array>;
  dispose(): Promise<void>;
}

export async function copyBackend(store: Store): Promise<BackendCopy> {
  const dir = await mkdtemp(join(tmpdir(), 'concord-snap-send-'));
  try {
    const info = await store.snapshot(dir);
    return {
      consistentIndex: info.consistentIndex,
      sizeBytes: info.sizeBytes,
      chunks: () => createReadStream(info.path, { highWaterMark: READ_CHUNK_BYTES }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
