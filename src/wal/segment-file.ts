// Segment files on disk: creating one durably (temp file, preallocate, header records, sync,
// rename, sync the directory), removing what a crash left half-made, and reading a run of
// consecutive segments into a replay.
import fs from 'node:fs';
import { join } from 'node:path';
import type { HardState } from '../raft/messages.ts';
import { assert } from '../util/assert.ts';
import { closeFd, fsyncDir, fsyncFd, ftruncate, openFd, writeFully } from './fsio.ts';
import type { SnapshotMark } from './record.ts';
import {
  CRC_PAYLOAD_BYTES, HARD_STATE_BYTES, RECORD_HEADER_BYTES, putCrc, putHardState, putMetadata,
  putSnapshotMark, sealRecords, snapshotMarkBytes,
} from './record.ts';
import type { ReplayBuilder } from './replay.ts';
import type { ScanOptions, ScanResult, SegmentName } from './segment.ts';
import { scanSegment } from './segment.ts';

/** The settings of one WAL. */
export interface Settings {
  dir: string;
  metadata: Uint8Array;
  segmentBytes: number;
  preallocate: boolean;
  recordBytesMax: number;
  hooks: WalHooks;
}

/** Synchronous callbacks at points of interest to crash tests (WalOptions.hooks). */
export interface WalHooks {
  /** The tail segment is full: before it is sealed and the next one is created. */
  beforeCut?(): void;
  /** The next segment is created and is the tail now. */
  afterCut?(): void;
}

/** The records opening a segment: crc, metadata, then a hard state or a snapshot mark if given. */
export function segmentHeader(
  previousCrc: number, metadata: Uint8Array, extra: { hardState?: HardState; mark?: SnapshotMark },
): { header: Buffer; crc: number } {
  let bytes = 2 * RECORD_HEADER_BYTES + CRC_PAYLOAD_BYTES + metadata.length;
  if (extra.hardState) bytes += RECORD_HEADER_BYTES + HARD_STATE_BYTES;
  if (extra.mark) bytes += RECORD_HEADER_BYTES + snapshotMarkBytes(extra.mark);
  const header = Buffer.alloc(bytes);
  let at = putMetadata(header, putCrc(header, 0, previousCrc), metadata);
  if (extra.hardState) at = putHardState(header, at, extra.hardState);
  if (extra.mark) at = putSnapshotMark(header, at, extra.mark);
  return { header, crc: sealRecords(header, 0, at, previousCrc) };
}

/** Creates a segment durably (temp file, preallocate, write, sync, rename, sync dir); its fd. */
export async function createSegmentFile(
  settings: Settings, name: string, header: Buffer,
): Promise<number> {
  const path = join(settings.dir, name);
  const fd = await openFd(`${path}.tmp`, 'w');
  try {
    if (settings.preallocate) await ftruncate(fd, Math.max(settings.segmentBytes, header.length));
    await writeFully(fd, header, 0);
    await fsyncFd(fd);
    await fs.promises.rename(`${path}.tmp`, path);
    await fsyncDir(settings.dir);
    return fd;
  } catch (err) {
    await closeFd(fd).catch(() => undefined);
    throw err;
  }
}

/** Removes the temporary segment files a crash left behind half-made. */
export async function removeTemporaries(dir: string): Promise<void> {
  for (const name of await fs.promises.readdir(dir)) {
    if (name.endsWith('.wal.tmp')) await fs.promises.rm(join(dir, name), { force: true });
  }
}

const READ_CHUNK_BYTES = 1 << 20;

/**
 * Reads a segment's records, stopping after the zero header that ends them: a preallocated tail
 * is mostly zeros, not worth reading. Follows lengths without checking CRCs (the scan does);
 * `complete` says whether the buffer holds the whole file.
 */
export async function readSegmentData(
  path: string, recordBytesMax: number,
): Promise<{ buf: Buffer; complete: boolean }> {
  const handle = await fs.promises.open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    let buf = Buffer.alloc(Math.min(size, READ_CHUNK_BYTES));
    let have = 0;
    const ensure = async (wanted: number): Promise<void> => {
      if (wanted <= have || have === size) return;
      const target = Math.min(size, Math.max(wanted, have + READ_CHUNK_BYTES));
      if (target > buf.length) {
        const grown = Buffer.alloc(Math.min(size, Math.max(target, 2 * buf.length)));
        buf.copy(grown, 0, 0, have);
        buf = grown;
      }
      while (have < target) {
        const { bytesRead } = await handle.read(buf, have, target - have, have);
        if (bytesRead === 0) break;
        have += bytesRead;
      }
    };
    let at = 0;
    for (;;) {
      await ensure(at + RECORD_HEADER_BYTES);
      if (at + RECORD_HEADER_BYTES > have) break;
      const length = buf.readUInt32LE(at + 4);
      if (length === 0 && buf[at + 8] === 0 && buf.readUInt32LE(at) === 0) break;
      if (length > recordBytesMax) break;
      at += RECORD_HEADER_BYTES + length;
    }
    return { buf: buf.subarray(0, have), complete: have === size };
  } finally {
    await handle.close();
  }
}

/** Reads and scans consecutive segments into `builder`; the scan of the last one. */
export async function scanSegments(
  settings: Settings, segments: readonly SegmentName[], builder: ReplayBuilder,
): Promise<ScanResult> {
  let previousCrc: number | undefined;
  let scan: ScanResult | undefined;
  for (let i = 0; i < segments.length; i++) {
    const name = segments[i]!.name;
    const path = join(settings.dir, name);
    const data = await readSegmentData(path, settings.recordBytesMax);
    let buf = data.buf;
    builder.file = name;
    const options: ScanOptions = {
      name, isLast: i === segments.length - 1, previousCrc, recordBytesMax: settings.recordBytesMax,
      complete: data.complete,
      onRecord: (type, start, end, offset) => builder.apply(type, buf, start, end, offset),
    };
    scan = scanSegment(buf, options);
    if (scan.incomplete) {
      // A bad record: judging it (torn tail or corruption) needs everything after it.
      buf = await fs.promises.readFile(path);
      const resumeAt = { offset: scan.end, crc: scan.lastCrc };
      scan = scanSegment(buf, { ...options, complete: true, resumeAt });
    }
    previousCrc = scan.lastCrc;
  }
  assert(scan !== undefined, 'wal: scanSegments needs a segment');
  return scan;
}
