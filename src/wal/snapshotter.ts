// Snapshot files: a Raft snapshot (metadata and the state machine's bytes) in
// `<dir>/<term:016x>-<index:016x>.snap`, written atomically and checked by CRC on load. Loading
// takes the newest file that verifies, renaming any that does not to `.broken` (as etcd's snap).
import { crc32c } from '@node-rs/crc32';
import fs from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../raft/messages.ts';
import { WalError, WalErrorCode } from './errors.ts';
import { writeFileAtomic } from './fsio.ts';
import { decodeSnapshotMark, putSnapshotMarkPayload, snapshotMarkBytes } from './record.ts';
import type { SnapshotPosition } from './replay.ts';
import { hex16 } from './segment.ts';

/*
 * A snapshot file (integers little-endian):
 *
 *    0        4        8          12              12+m
 *    +--------+--------+----------+---------------+----------------------+
 *    | "CSN1" |  crc   |    m     | metadata (m)  | data (to end of file) |
 *    +--------+--------+----------+---------------+----------------------+
 *      magic    u32       u32       index, term, confState as a WAL snapshot mark payload
 *                      |<------------------ crc32c covers ------------------>|
 */
const MAGIC = 0x314e5343; // "CSN1" read as a little-endian u32
const FILE_HEADER_BYTES = 12;
const SNAP_PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

/** The default number of snapshot files purge keeps (etcd's --max-snapshots). */
export const MAX_SNAPSHOTS_DEFAULT = 5;

/** The file name of the snapshot at (term, index). */
export function snapshotFileName(term: number, index: number): string {
  return `${hex16(term)}-${hex16(index)}.snap`;
}

/** Encodes a snapshot as the bytes of its file. */
export function encodeSnapshotFile(snapshot: Snapshot): Buffer {
  const { metadata, data } = snapshot;
  const metaBytes = snapshotMarkBytes(metadata);
  const buf = Buffer.allocUnsafe(FILE_HEADER_BYTES + metaBytes + data.length);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(metaBytes, 8);
  const at = putSnapshotMarkPayload(buf, FILE_HEADER_BYTES, metadata);
  buf.set(data, at);
  buf.writeUInt32LE(crc32c(buf.subarray(8)), 4);
  return buf;
}

/** Decodes a snapshot file; the reason it cannot be trusted, as a string, when it fails. */
export function decodeSnapshotFile(buf: Buffer): Snapshot | string {
  if (buf.length < FILE_HEADER_BYTES) return 'file too short';
  if (buf.readUInt32LE(0) !== MAGIC) return 'not a snapshot file';
  if (crc32c(buf.subarray(8)) !== buf.readUInt32LE(4)) return 'crc mismatch';
  const metaEnd = FILE_HEADER_BYTES + buf.readUInt32LE(8);
  if (metaEnd > buf.length) return 'metadata length out of bounds';
  const metadata = decodeSnapshotMark(buf, FILE_HEADER_BYTES, metaEnd);
  if (metadata === undefined) return 'malformed metadata';
  return { metadata, data: buf.subarray(metaEnd) };
}

/** Options of a Snapshotter. */
export interface SnapshotterOptions {
  /** Where notices of broken files go (default console.warn). */
  log?: (msg: string) => void;
}

/** Saves and loads the snapshot files of one directory. */
export class Snapshotter {
  readonly #dir: string;
  readonly #log: (msg: string) => void;

  constructor(dir: string, options: SnapshotterOptions = {}) {
    this.#dir = dir;
    this.#log = options.log ?? console.warn;
  }

  /** The directory of the snapshot files. */
  get dir(): string {
    return this.#dir;
  }

  /** Saves `snapshot` durably and atomically; its file name. Refuses an empty one (index 0). */
  async save(snapshot: Snapshot): Promise<string> {
    const { index, term } = snapshot.metadata;
    if (index === 0) {
      const message = `snap: cannot save "${this.#dir}": empty snapshot`;
      throw new WalError(WalErrorCode.SnapshotCorrupt, message);
    }
    await fs.promises.mkdir(this.#dir, { recursive: true });
    const name = snapshotFileName(term, index);
    await writeFileAtomic(this.#dir, name, encodeSnapshotFile(snapshot));
    return name;
  }

  /** The snapshot file names, newest (highest term, then index) first. */
  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.#dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => SNAP_PATTERN.test(n)).sort().reverse();
  }

  /** Loads one snapshot file; a WalError (SnapshotCorrupt) when it does not verify. */
  async load(name: string): Promise<Snapshot> {
    const buf = await fs.promises.readFile(join(this.#dir, name));
    const decoded = decodeSnapshotFile(buf);
    let problem = typeof decoded === 'string' ? decoded : undefined;
    if (typeof decoded !== 'string') {
      const { term, index } = decoded.metadata;
      if (snapshotFileName(term, index) !== name) problem = 'metadata does not match the file name';
      else return decoded;
    }
    throw new WalError(WalErrorCode.SnapshotCorrupt, `snap: cannot load "${name}": ${problem}`, {
      file: name,
    });
  }

  /** The newest snapshot that verifies, or undefined when there is none. */
  async loadNewest(): Promise<Snapshot | undefined> {
    return this.#loadFirst(() => true);
  }

  /**
   * The newest snapshot that verifies and that the WAL marked (same index and term), as etcd's
   * LoadNewestAvailable: a snapshot the WAL never recorded cannot be replayed from.
   */
  async loadNewestAvailable(marks: readonly SnapshotPosition[]): Promise<Snapshot | undefined> {
    const wanted = new Set(marks.map((m) => snapshotFileName(m.term, m.index)));
    return this.#loadFirst((name) => wanted.has(name));
  }

  /** Removes all but the newest `maxSnapshots` files (and stray temporaries); their names. */
  async purge(options: { maxSnapshots: number }): Promise<string[]> {
    const doomed = (await this.list()).slice(Math.max(1, options.maxSnapshots));
    const names = await fs.promises.readdir(this.#dir).catch(() => [] as string[]);
    doomed.push(...names.filter((n) => n.endsWith('.snap.tmp')));
    for (const name of doomed) await fs.promises.rm(join(this.#dir, name), { force: true });
    return doomed;
  }

  async #loadFirst(accept: (name: string) => boolean): Promise<Snapshot | undefined> {
    for (const name of await this.list()) {
      if (!accept(name)) continue;
      try {
        return await this.load(name);
      } catch (err) {
        if (!(err instanceof WalError)) throw err;
        this.#log(`${err.message}; renamed to "${name}.broken"`);
        await fs.promises.rename(join(this.#dir, name), join(this.#dir, `${name}.broken`));
      }
    }
    return undefined;
  }
}
