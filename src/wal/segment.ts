// Segment files: their names (`<seq:016x>-<firstIndex:016x>.wal`, as etcd), listing a directory in
// sequence order, and scanning one segment's records. Scanning decides what a bad record means:
// a torn tail of the last segment (repairable) or corruption (refused); see `scanSegment`.
import { crc32c } from '@node-rs/crc32';
import fs from 'node:fs';
import { WalError, WalErrorCode } from './errors.ts';
import { CRC_PAYLOAD_BYTES, RECORD_HEADER_BYTES, RecordType } from './record.ts';

/** A parsed segment file name. */
export interface SegmentName {
  /** The segment's position in the sequence, from 0, without gaps. */
  seq: number;
  /**
   * The index after the last entry written before this segment began. Entries with a higher index
   * are in this segment or a later one; lower ones (rewritten by a Raft truncation) may be too.
   */
  firstIndex: number;
  name: string;
}

const SEGMENT_PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** The file name of a segment. */
export function segmentName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

/** Sixteen lowercase hex digits. */
export function hex16(value: number): string {
  return value.toString(16).padStart(16, '0');
}

/** Parses a segment file name; undefined for any other file. */
export function parseSegmentName(name: string): SegmentName | undefined {
  const match = SEGMENT_PATTERN.exec(name);
  if (match === null) return undefined;
  const seq = Number.parseInt(match[1]!, 16);
  const firstIndex = Number.parseInt(match[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex)) return undefined;
  return { seq, firstIndex, name };
}

/** The segments of `dir` in sequence order; refuses an empty directory or a gap in the sequence. */
export function listSegments(dir: string): SegmentName[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (cause) {
    throw new WalError(WalErrorCode.NotFound, `wal: cannot open "${dir}": not a directory`, {
      cause,
    });
  }
  const segments = names.flatMap((name) => parseSegmentName(name) ?? []);
  if (segments.length === 0) {
    throw new WalError(WalErrorCode.NotFound, `wal: cannot open "${dir}": no segment files`);
  }
  segments.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1]!;
    const segment = segments[i]!;
    if (segment.seq !== previous.seq + 1 || segment.firstIndex < previous.firstIndex) {
      throw new WalError(
        WalErrorCode.SequenceGap,
        `wal: cannot open "${dir}": segment "${segment.name}" does not follow "${previous.name}"`,
        { file: segment.name },
      );
    }
  }
  return segments;
}

/** The position of the last segment whose firstIndex is at most `index`; -1 when none is. */
export function segmentCovering(segments: readonly SegmentName[], index: number): number {
  for (let i = segments.length - 1; i >= 0; i--) {
    if (segments[i]!.firstIndex <= index) return i;
  }
  return -1;
}

/** The outcome of reading the record at one offset. */
export type RecordRead =
  | { kind: 'end' }
  | { kind: 'ok'; type: RecordType; start: number; end: number; crc: number }
  /** `end` is where the record claims to end, undefined when its length cannot be believed. */
  | { kind: 'bad'; reason: string; end: number | undefined; crc: number };

function isZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Reads the record at `at`, checking it against the chain `seed`. Never allocates by length. */
export function readRecord(
  buf: Buffer, at: number, seed: number, recordBytesMax: number,
): RecordRead {
  const limit = buf.length;
  if (limit - at < RECORD_HEADER_BYTES) {
    return isZero(buf, at, limit)
      ? { kind: 'end' }
      : { kind: 'bad', reason: 'truncated record header', end: undefined, crc: 0 };
  }
  const crc = buf.readUInt32LE(at);
  const length = buf.readUInt32LE(at + 4);
  const type = buf[at + 8]!;
  if (crc === 0 && length === 0 && type === 0) return { kind: 'end' };
  const start = at + RECORD_HEADER_BYTES;
  if (length > recordBytesMax || length > limit - start) {
    return { kind: 'bad', reason: `record length ${length} out of bounds`, end: undefined, crc };
  }
  const end = start + length;
  if (type < RecordType.Metadata || type > RecordType.SnapshotMark) {
    return { kind: 'bad', reason: `unknown record type ${type}`, end, crc };
  }
  if (type === RecordType.Crc) {
    if (length !== CRC_PAYLOAD_BYTES) {
      return { kind: 'bad', reason: 'malformed crc record', end, crc };
    }
    seed = buf.readUInt32LE(start);
  }
  if (crc32c(buf.subarray(at + 4, end), seed) !== crc) {
    return { kind: 'bad', reason: 'crc mismatch', end, crc };
  }
  return { kind: 'ok', type: type as RecordType, start, end, crc };
}

/** The unit a disk writes atomically; a torn write leaves whole units of zeros. */
const SECTOR_BYTES = 512;

/** True when a whole sector-aligned sector inside buf[start, end) is zeros: a torn write. */
function hasZeroSector(buf: Buffer, start: number, end: number): boolean {
  const first = Math.ceil(start / SECTOR_BYTES) * SECTOR_BYTES;
  for (let at = first; at + SECTOR_BYTES <= end; at += SECTOR_BYTES) {
    if (isZero(buf, at, at + SECTOR_BYTES)) return true;
  }
  return false;
}

/** True when, following the claimed lengths from a bad record, some later record verifies. */
function chainFindsValid(buf: Buffer, bad: RecordRead & { kind: 'bad' }, max: number): boolean {
  let next = bad.end;
  let seed = bad.crc;
  while (next !== undefined) {
    const read = readRecord(buf, next, seed, max);
    if (read.kind === 'end') return false;
    if (read.kind === 'ok') return true;
    next = read.end;
    seed = read.crc;
  }
  return false;
}

/**
 * True when a record starting anywhere in buf[from, to) verifies, either against `seed` (the crc
 * field of the bad record: its successor when only its length is corrupt) or against a plausible
 * record right before it: real records lie past a bad one whose length cannot be followed. Only
 * the failure path runs this; cheap header checks come before any CRC.
 */
function resyncFinds(buf: Buffer, from: number, to: number, seed: number, max: number): boolean {
  const plausible = (at: number): number => {
    if (at + RECORD_HEADER_BYTES > buf.length) return -1;
    const type = buf[at + 8]!;
    const length = buf.readUInt32LE(at + 4);
    if (type < RecordType.Metadata || type > RecordType.SnapshotMark || length > max) return -1;
    const end = at + RECORD_HEADER_BYTES + length;
    return end <= buf.length ? end : -1;
  };
  const verifies = (at: number, end: number, crc: number): boolean =>
    buf[at + 8] !== RecordType.Crc &&
    crc32c(buf.subarray(at + 4, end), crc) === buf.readUInt32LE(at);
  for (let at = from; at + RECORD_HEADER_BYTES <= to; at++) {
    const next = plausible(at);
    if (next < 0) continue;
    if (verifies(at, next, seed)) return true;
    const nextEnd = plausible(next);
    if (nextEnd >= 0 && verifies(next, nextEnd, buf.readUInt32LE(at))) return true;
  }
  return false;
}

/**
 * Whether the bad record at `at` in the last segment starts a torn tail (cut it off) rather than
 * corruption before the tail (refuse). Torn when:
 *   - a whole sector inside it, before the last non-zero byte, is zeros (a write whose pages
 *     reached the disk out of order: nothing from that write on was ever synced), or
 *   - no valid record follows it: neither along its claimed length, nor anywhere after it
 *     (its length may be the corrupt part).
 * A synced later write would have made the bad record whole, so data after a torn record was never
 * acknowledged. NB: a bit flip in the last one or two records is indistinguishable from a torn
 * write and is cut off, as a torn tail is.
 */
function isTornTail(
  buf: Buffer, at: number, bad: RecordRead & { kind: 'bad' }, max: number,
): boolean {
  const dataEnd = lastNonZero(buf, at);
  if (hasZeroSector(buf, at, Math.min(bad.end ?? dataEnd, dataEnd))) return true;
  if (chainFindsValid(buf, bad, max)) return false;
  return !resyncFinds(buf, at + 1, dataEnd, bad.crc, max);
}

/** How to scan one segment. */
export interface ScanOptions {
  name: string;
  /** Only the last segment may have a torn tail; elsewhere any bad record is corruption. */
  isLast: boolean;
  /** The last crc of the previous segment, when it was read: the chain must continue from it. */
  previousCrc: number | undefined;
  recordBytesMax: number;
  /** False when `buf` holds only a prefix of the file: a bad record then stops the scan early. */
  complete: boolean;
  /** Continue an incomplete scan from here (the leading crc record was already checked). */
  resumeAt?: { offset: number; crc: number };
  /** Called for every valid record after the leading crc record, in order. */
  onRecord(type: RecordType, start: number, end: number, offset: number): void;
}

/** What scanning found. */
export interface ScanResult {
  /** The offset just after the last valid record. */
  end: number;
  /** The crc of the last valid record. */
  lastCrc: number;
  /** Set when a torn tail begins at `end` and must be cut off. */
  torn?: { reason: string; bytes: number };
  /** Set when a bad record at `end` needs the whole file to judge: scan it with `resumeAt`. */
  incomplete?: true;
}

/** Builds the error for a segment that cannot be trusted. */
export function corruptSegment(name: string, offset: number, reason: string): WalError {
  const message = `wal: cannot open segment "${name}": ${reason} at ${offset}`;
  return new WalError(WalErrorCode.Corrupt, message, { file: name, offset });
}

/** Scans a whole segment held in `buf`, calling `onRecord` per record; see ScanOptions. */
export function scanSegment(buf: Buffer, options: ScanOptions): ScanResult {
  const { name, recordBytesMax } = options;
  let { offset: at, crc } = options.resumeAt ?? checkLeadingCrc(buf, options);
  for (;;) {
    const read = readRecord(buf, at, crc, recordBytesMax);
    if (read.kind === 'end') return { end: at, lastCrc: crc };
    if (read.kind === 'ok') {
      if (read.type === RecordType.Crc) throw corruptSegment(name, at, 'unexpected crc record');
      options.onRecord(read.type, read.start, read.end, at);
      crc = read.crc;
      at = read.end;
      continue;
    }
    if (!options.complete) return { end: at, lastCrc: crc, incomplete: true };
    if (!options.isLast || !isTornTail(buf, at, read, recordBytesMax)) {
      throw corruptSegment(name, at, read.reason);
    }
    const dataEnd = lastNonZero(buf, at);
    return { end: at, lastCrc: crc, torn: { reason: read.reason, bytes: dataEnd - at } };
  }
}

/** Checks the crc record that opens every segment; where the records after it start. */
function checkLeadingCrc(buf: Buffer, options: ScanOptions): { offset: number; crc: number } {
  const first = readRecord(buf, 0, 0, options.recordBytesMax);
  if (first.kind !== 'ok' || first.type !== RecordType.Crc) {
    throw corruptSegment(options.name, 0, 'no valid crc record');
  }
  const previousCrc = buf.readUInt32LE(first.start);
  if (options.previousCrc !== undefined && previousCrc !== options.previousCrc) {
    throw corruptSegment(options.name, 0, 'crc chain broken from the previous segment');
  }
  return { offset: first.end, crc: first.crc };
}

function lastNonZero(buf: Buffer, from: number): number {
  let end = buf.length;
  while (end > from && buf[end - 1] === 0) end--;
  return end;
}
