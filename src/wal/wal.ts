// The write-ahead log: durable Raft entries and hard state in a directory of segments. One save()
// is one buffer, one write and at most one fdatasync (group commit); saves run one at a time in
// call order. Invariant: the records on disk before #offset of the tail segment form a valid CRC
// chain, and everything after #offset reads as zeros (preallocated, or zeroed at open).
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import type { Entry, HardState } from '../raft/messages.ts';
import { emptyConfState, isEmptyHardState } from '../raft/messages.ts';
import { assert } from '../util/assert.ts';
import { WalError, WalErrorCode } from './errors.ts';
import { closeFd, fdatasync, fsyncDir, fsyncFd, ftruncate, openFd, writeFullySync } from './fsio.ts';
import type { SnapshotMark } from './record.ts';
import {
  ENTRY_HEADER_BYTES, HARD_STATE_BYTES, RECORD_BYTES_MAX_DEFAULT, RECORD_HEADER_BYTES, copyBytes,
  putEntry, putHardState, putSnapshotMark, sealRecords, snapshotMarkBytes,
} from './record.ts';
import type { Replay, SnapshotPosition } from './replay.ts';
import { ReplayBuilder } from './replay.ts';
import type { SegmentName } from './segment.ts';
import { listSegments, parseSegmentName, segmentCovering, segmentName } from './segment.ts';
import type { Settings, WalHooks } from './segment-file.ts';
import {
  createSegmentFile, removeTemporaries, scanSegments, segmentHeader,
} from './segment-file.ts';

/** The default segment size, in bytes (etcd's): larger cuts less often but purges coarser. */
export const SEGMENT_BYTES_DEFAULT = 64 * 1024 * 1024;

export type { WalHooks };

/** Tuning shared by create and open. */
export interface WalOptions {
  /** Cut a new segment once the tail passes this many bytes; also the preallocation. */
  segmentBytes?: number;
  /** Preallocate each segment to segmentBytes with ftruncate (default true). */
  preallocate?: boolean;
  /** The largest record payload accepted or believed, in bytes (default 64 MiB). */
  recordBytesMax?: number;
  /** Where the one-line notice of a tail repair goes (default console.warn). */
  log?: (msg: string) => void;
  /** Called around each segment cut, for crash tests (the member wires its failpoints here). */
  hooks?: WalHooks;
}

/** Options of `Wal.open`. */
export interface WalOpenOptions extends WalOptions {
  /** Replay entries after this snapshot, which must have been marked (default index 0, term 0). */
  fromSnapshot?: SnapshotPosition;
}

/** What `Wal.open` returns: the WAL, ready to append, and what it replayed. */
export interface WalOpened {
  wal: Wal;
  replay: Replay;
}

/** Options of `save`. */
export interface SaveOptions {
  /** fdatasync before the promise resolves (Ready.mustSync). */
  sync: boolean;
}

interface TailState {
  segments: SegmentName[];
  fd: number;
  offset: number;
  crc: number;
  lastIndex: number;
  hardState: HardState | undefined;
  snapshotIndex: number;
  releasable: number;
}

function settingsOf(dir: string, metadata: Uint8Array, options: WalOptions): Settings {
  const segmentBytes = options.segmentBytes ?? SEGMENT_BYTES_DEFAULT;
  const recordBytesMax = options.recordBytesMax ?? RECORD_BYTES_MAX_DEFAULT;
  assert(segmentBytes > 0 && recordBytesMax > 0, 'wal: segmentBytes, recordBytesMax must be > 0');
  const preallocate = options.preallocate ?? true;
  return { dir, metadata, segmentBytes, preallocate, recordBytesMax, hooks: options.hooks ?? {} };
}

const noop = (): void => undefined;

/** A write-ahead log open for appending. Create with `Wal.create`, reopen with `Wal.open`. */
export class Wal {
  readonly #settings: Settings;
  readonly #segments: SegmentName[];
  #fd: number;
  /** Where the next record goes in the tail segment. */
  #offset: number;
  /** The crc of the last record written: the seed of the next. */
  #crc: number;
  /** The index of the last entry written, or of a later snapshot mark; names the next segment. */
  #lastIndex: number;
  /** #lastIndex counting saves still queued (checks that a batch continues the log). */
  #queuedLastIndex: number;
  /** The last non-empty hard state written; repeated at the start of each new segment. */
  #hardState: HardState | undefined;
  /** The highest snapshot mark known; segments holding entries after it are never released. */
  #snapshotIndex: number;
  /** How many leading segments releaseTo has declared unneeded. */
  #releasable: number;
  #queue: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #failure: WalError | undefined;

  private constructor(settings: Settings, tail: TailState) {
    this.#settings = settings;
    this.#segments = tail.segments;
    this.#fd = tail.fd;
    this.#offset = tail.offset;
    this.#crc = tail.crc;
    this.#lastIndex = tail.lastIndex;
    this.#queuedLastIndex = tail.lastIndex;
    this.#hardState = tail.hardState;
    this.#snapshotIndex = tail.snapshotIndex;
    this.#releasable = tail.releasable;
  }

  /**
   * Creates a WAL in `dir` (made if missing; refused if it already holds segments) whose first
   * segment records `metadata` and the initial snapshot mark (index 0, term 0).
   */
  static async create(dir: string, metadata: Uint8Array, options: WalOptions = {}): Promise<Wal> {
    const settings = settingsOf(dir, copyBytes(metadata, 0, metadata.length), options);
    await fs.promises.mkdir(dir, { recursive: true });
    const names = await fs.promises.readdir(dir);
    const existing = names.find((n) => parseSegmentName(n) !== undefined);
    if (existing !== undefined) {
      const message = `wal: cannot create "${dir}": segment "${existing}" exists`;
      throw new WalError(WalErrorCode.Exists, message);
    }
    await removeTemporaries(dir);
    await fsyncDir(dirname(dir));
    const mark: SnapshotMark = { index: 0, term: 0, confState: emptyConfState() };
    const { header, crc } = segmentHeader(0, settings.metadata, { mark });
    const name = segmentName(0, 0);
    const fd = await createSegmentFile(settings, name, header);
    return new Wal(settings, {
      segments: [{ seq: 0, firstIndex: 0, name }],
      fd, offset: header.length, crc, lastIndex: 0, hardState: undefined,
      snapshotIndex: 0, releasable: 0,
    });
  }

  /**
   * Opens the WAL in `dir`, replays it from `fromSnapshot`, repairs a torn tail of the last
   * segment (logging one line), and positions appends after the last good record.
   */
  static async open(dir: string, options: WalOpenOptions = {}): Promise<WalOpened> {
    const segments = listSegments(dir);
    await removeTemporaries(dir);
    const start = options.fromSnapshot ?? { index: 0, term: 0 };
    const first = segmentCovering(segments, start.index);
    if (first < 0) {
      throw new WalError(
        WalErrorCode.SnapshotNotFound,
        `wal: cannot open "${dir}": no segment covers snapshot index ${start.index}`,
      );
    }
    const settings = settingsOf(dir, new Uint8Array(0), options);
    const builder = new ReplayBuilder(start);
    const scan = await scanSegments(settings, segments.slice(first), builder);
    const replay = builder.finish(dir);
    settings.metadata = replay.metadata;
    const tail = segments[segments.length - 1]!;
    const path = join(dir, tail.name);
    if (scan.torn !== undefined) {
      await fs.promises.copyFile(path, `${path}.broken`);
      (options.log ?? console.warn)(
        `wal: repaired segment "${tail.name}": cut torn tail at ${scan.end} ` +
          `(${scan.torn.reason}, ${scan.torn.bytes} bytes dropped, copy kept as .broken)`,
      );
    }
    const fd = await openFd(path, 'r+');
    try {
      // Zero whatever lies past the last good record so that later appends are followed by zeros.
      await ftruncate(fd, scan.end);
      if (settings.preallocate && scan.end < settings.segmentBytes) {
        await ftruncate(fd, settings.segmentBytes);
      }
      await fsyncFd(fd);
    } catch (err) {
      await closeFd(fd).catch(noop);
      throw err;
    }
    const marks = replay.snapshotMarks.map((m) => m.index);
    const hs = replay.hardState;
    const wal = new Wal(settings, {
      segments, fd, offset: scan.end, crc: scan.lastCrc,
      lastIndex: Math.max(start.index, builder.lastEntryIndex),
      hardState: isEmptyHardState(hs) ? undefined : hs,
      snapshotIndex: Math.max(start.index, ...marks),
      releasable: first,
    });
    return { wal, replay };
  }

  /**
   * The snapshot marks of every segment in `dir` whose index is at most the last saved commit
   * index (as etcd's ValidSnapshotEntries): the candidates for `Snapshotter.loadNewestAvailable`.
   * Reads only; a torn tail is ignored, not repaired.
   */
  static async readSnapshotMarks(dir: string, options: WalOptions = {}): Promise<SnapshotMark[]> {
    const builder = new ReplayBuilder({ index: 0, term: 0 }, false);
    await scanSegments(settingsOf(dir, new Uint8Array(0), options), listSegments(dir), builder);
    const { hardState, snapshotMarks } = builder.partial();
    return snapshotMarks.filter((mark) => mark.index <= hardState.commit);
  }

  /** The directory of this WAL. */
  get dir(): string {
    return this.#settings.dir;
  }

  /** The index of the last entry written (or of a later snapshot mark). */
  get lastIndex(): number {
    return this.#lastIndex;
  }

  /** The segment file names, oldest first. */
  segmentNames(): string[] {
    return this.#segments.map((s) => s.name);
  }

  /**
   * Appends `entries` (contiguous; the first at most one past the last index, a lower one
   * overwriting as a Raft truncation) and then `hardState` (skipped when absent or empty), in one
   * buffer and one write, plus one fdatasync when `sync`. Saves run one at a time in call order.
   * NB: once a write or sync fails, the WAL refuses everything until reopened (etcd stops too).
   */
  async save(
    hardState: HardState | undefined, entries: readonly Entry[], options: SaveOptions,
  ): Promise<void> {
    this.#checkOpen();
    const hs =
      hardState !== undefined && !isEmptyHardState(hardState) ? { ...hardState } : undefined;
    let bytes = hs ? RECORD_HEADER_BYTES + HARD_STATE_BYTES : 0;
    for (const entry of entries) {
      const payload = ENTRY_HEADER_BYTES + entry.data.length;
      if (payload > this.#settings.recordBytesMax) {
        throw new WalError(
          WalErrorCode.RecordTooLarge,
          `wal: cannot save entry ${entry.index}: ` +
            `record of ${payload} bytes exceeds the limit of ` +
            `${this.#settings.recordBytesMax}`,
        );
      }
      bytes += RECORD_HEADER_BYTES + payload;
    }
    let lastIndex: number | undefined;
    if (entries.length > 0) {
      const first = entries[0]!.index;
      assert(first >= 1 && first <= this.#queuedLastIndex + 1,
        () => `wal: save of entry ${first} leaves a gap after ${this.#queuedLastIndex}`);
      for (let i = 1; i < entries.length; i++) {
        assert(entries[i]!.index === first + i, 'wal: save of non-contiguous entries');
      }
      lastIndex = first + entries.length - 1;
      this.#queuedLastIndex = lastIndex;
    }
    if (bytes === 0 && !options.sync) return;
    const buf = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const entry of entries) at = putEntry(buf, at, entry);
    if (hs) putHardState(buf, at, hs);
    await this.#enqueue(() =>
      this.#append(buf, options.sync, () => {
        if (lastIndex !== undefined) this.#lastIndex = lastIndex;
        if (hs) this.#hardState = hs;
      }),
    );
  }

  /**
   * Records that a snapshot at (index, term) with `confState` is saved, synced. Call after the
   * snapshot file is durable; replay can then start from it.
   */
  async saveSnapshotMark(mark: SnapshotMark): Promise<void> {
    this.#checkOpen();
    const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + snapshotMarkBytes(mark));
    putSnapshotMark(buf, 0, mark);
    this.#queuedLastIndex = Math.max(this.#queuedLastIndex, mark.index);
    await this.#enqueue(() =>
      this.#append(buf, true, () => {
        this.#lastIndex = Math.max(this.#lastIndex, mark.index);
        this.#snapshotIndex = Math.max(this.#snapshotIndex, mark.index);
      }),
    );
  }

  /** Starts a new segment now (saves do this by themselves past segmentBytes). */
  async cut(): Promise<void> {
    this.#checkOpen();
    await this.#enqueue(() => this.#guard(() => this.#cutNow()));
  }

  /**
   * Declares the entries below `index` unneeded (a snapshot covers them): segments before the one
   * that may hold `index` become removable by `purge`. Clamped to the latest snapshot mark.
   */
  releaseTo(index: number): void {
    const keep = segmentCovering(this.#segments, Math.min(index, this.#snapshotIndex));
    this.#releasable = Math.max(this.#releasable, keep);
  }

  /** Removes released segments, oldest first, while more than `maxSegments` remain; their names. */
  async purge(options: { maxSegments: number }): Promise<string[]> {
    this.#checkOpen();
    return this.#enqueue(async () => {
      const removed: string[] = [];
      while (this.#segments.length > Math.max(1, options.maxSegments) && this.#releasable > 0) {
        const oldest = this.#segments[0]!;
        await fs.promises.rm(join(this.#settings.dir, oldest.name), { force: true });
        this.#segments.shift();
        this.#releasable--;
        removed.push(oldest.name);
      }
      if (removed.length > 0) await fsyncDir(this.#settings.dir);
      return removed;
    });
  }

  /** Waits for queued saves, syncs and closes. Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#queue;
      try {
        if (this.#failure === undefined) await fdatasync(this.#fd);
      } finally {
        await closeFd(this.#fd);
      }
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) {
      throw new WalError(WalErrorCode.Closed, `wal: cannot write "${this.#settings.dir}": closed`);
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#failure !== undefined) throw this.#failure;
      return task();
    });
    this.#queue = run.then(noop, noop);
    return run;
  }

  /** Runs a write step; a failure poisons the WAL (the tail's state on disk is unknown). */
  async #guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      this.#failure = new WalError(WalErrorCode.Failed,
        `wal: cannot write "${this.#settings.dir}": ${message}`, { cause });
      throw this.#failure;
    }
  }

  #append(buf: Buffer, sync: boolean, onWritten: () => void): Promise<void> {
    return this.#guard(async () => {
      if (buf.length > 0) {
        const crc = sealRecords(buf, 0, buf.length, this.#crc);
        writeFullySync(this.#fd, buf, this.#offset);
        this.#offset += buf.length;
        this.#crc = crc;
      }
      onWritten();
      if (this.#offset >= this.#settings.segmentBytes) await this.#cutNow();
      else if (sync) await fdatasync(this.#fd);
    });
  }

  async #cutNow(): Promise<void> {
    this.#settings.hooks.beforeCut?.();
    // Seal the full segment at its real end (dropping preallocated zeros), durably.
    await ftruncate(this.#fd, this.#offset);
    await fsyncFd(this.#fd);
    const last = this.#segments[this.#segments.length - 1]!;
    const next = { seq: last.seq + 1, firstIndex: this.#lastIndex + 1, name: '' };
    next.name = segmentName(next.seq, next.firstIndex);
    const extra = this.#hardState ? { hardState: this.#hardState } : {};
    const { header, crc } = segmentHeader(this.#crc, this.#settings.metadata, extra);
    const fd = await createSegmentFile(this.#settings, next.name, header);
    const old = this.#fd;
    this.#fd = fd;
    this.#offset = header.length;
    this.#crc = crc;
    this.#segments.push(next);
    await closeFd(old);
    this.#settings.hooks.afterCut?.();
  }
}
