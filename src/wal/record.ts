// The on-disk record format of WAL segments: layout, record types, and the codecs for each payload.
// Encoding writes straight into one preallocated Buffer (no per-record allocation); CRCs are filled
// in later by `sealRecords`, when the writer knows the running CRC. Decoding never trusts a length.
import { crc32c } from '@node-rs/crc32';
import type { ConfState, Entry, HardState, NodeId } from '../raft/messages.ts';
import { EntryType } from '../raft/messages.ts';
import { assert } from '../util/assert.ts';

/*
 * One record (all integers little-endian):
 *
 *    0         4         8      9                        9+length
 *    +---------+---------+------+--------------------------+
 *    |   crc   | length  | type |   payload (length bytes) |
 *    +---------+---------+------+--------------------------+
 *      u32       u32       u8
 *              |<------------ covered by crc ------------->|
 *
 *    crc = crc32c(bytes [4, 9 + length), seed = the crc field of the previous record)
 *
 * The CRC is chained: each record is seeded with its predecessor's crc field, so a lost, repeated
 * or reordered record breaks the chain, and any record can be checked given only the header of the
 * record before it. Each segment opens with a `Crc` record whose payload is the last crc of the
 * previous segment (0 for the first) and whose own crc is seeded with that value: a segment can be
 * verified alone, and against its predecessor when both are read.
 *
 * A header of nine zero bytes is the end of the data (type 0 is never written): segments are
 * preallocated with zeros, and replay stops there. No padding: records are byte-packed.
 *
 * Payloads (u64 = two u32 halves, low first; numbers stay below 2^53):
 *    Metadata      opaque bytes (the member's node id and cluster id)
 *    Entry         u8 entry type (0 Normal, 1 ConfChange) | u64 term | u64 index | data
 *    HardState     u64 term | u64 vote | u64 commit
 *    Crc           u32 crc of the previous segment's last record
 *    SnapshotMark  u64 index | u64 term | u8 autoLeave | 4 × (u32 count | count × u64 id)
 *                  lists in order voters, learners, votersOutgoing, learnersNext
 */

/** The kinds of record. */
export const RecordType = {
  Metadata: 1,
  Entry: 2,
  HardState: 3,
  Crc: 4,
  SnapshotMark: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Bytes before a record's payload. */
export const RECORD_HEADER_BYTES = 9;
/** Bytes of an entry payload before its data. */
export const ENTRY_HEADER_BYTES = 17;
/** Bytes of a hard state payload. */
export const HARD_STATE_BYTES = 24;
/** Bytes of a crc payload. */
export const CRC_PAYLOAD_BYTES = 4;

/**
 * The default bound on one record's payload, in bytes: 64 MiB (the default segment size). Far above
 * etcd's 1.5 MiB request limit, low enough that a corrupt length is never believed.
 */
export const RECORD_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

/** A snapshot mark: the WAL's note that a snapshot at (index, term) was saved. */
export interface SnapshotMark {
  index: number;
  term: number;
  confState: ConfState;
}

const TWO_32 = 0x1_0000_0000;

function putU64(buf: Buffer, offset: number, value: number): void {
  // NB: no closure for the message here: this runs several times per entry on the hot path.
  if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && value === Math.floor(value))) {
    assert(false, `wal: u64 out of range: ${value}`);
  }
  buf.writeUInt32LE(value >>> 0, offset);
  buf.writeUInt32LE((value / TWO_32) >>> 0, offset + 4);
}

/** Reads a u64 written by putU64; undefined when it exceeds 2^53 (a corrupt value). */
export function getU64(buf: Uint8Array, offset: number): number | undefined {
  const view = buf as Buffer;
  const hi = view.readUInt32LE(offset + 4);
  if (hi > 0x1f_ffff) return undefined;
  return hi * TWO_32 + view.readUInt32LE(offset);
}

/** The encoded size of an entry record, header included. */
export function entryRecordBytes(entry: Entry): number {
  return RECORD_HEADER_BYTES + ENTRY_HEADER_BYTES + entry.data.length;
}

function putHeader(buf: Buffer, offset: number, type: RecordType, length: number): number {
  buf.writeUInt32LE(0, offset);
  buf.writeUInt32LE(length, offset + 4);
  buf[offset + 8] = type;
  return offset + RECORD_HEADER_BYTES;
}

/** Writes an entry record at `offset` (crc left 0); returns the offset after it. */
export function putEntry(buf: Buffer, offset: number, entry: Entry): number {
  const length = ENTRY_HEADER_BYTES + entry.data.length;
  let at = putHeader(buf, offset, RecordType.Entry, length);
  buf[at] = entry.type === EntryType.ConfChange ? 1 : 0;
  putU64(buf, at + 1, entry.term);
  putU64(buf, at + 9, entry.index);
  at += ENTRY_HEADER_BYTES;
  buf.set(entry.data, at);
  return at + entry.data.length;
}

/** Writes a hard state record at `offset` (crc left 0); returns the offset after it. */
export function putHardState(buf: Buffer, offset: number, hs: HardState): number {
  const at = putHeader(buf, offset, RecordType.HardState, HARD_STATE_BYTES);
  putU64(buf, at, hs.term);
  buf.writeBigUInt64LE(hs.vote, at + 8);
  putU64(buf, at + 16, hs.commit);
  return at + HARD_STATE_BYTES;
}

/** Writes a crc record carrying `previousCrc` (its own crc left 0); returns the offset after it. */
export function putCrc(buf: Buffer, offset: number, previousCrc: number): number {
  const at = putHeader(buf, offset, RecordType.Crc, CRC_PAYLOAD_BYTES);
  buf.writeUInt32LE(previousCrc >>> 0, at);
  return at + CRC_PAYLOAD_BYTES;
}

/** Writes an opaque metadata record; returns the offset after it. */
export function putMetadata(buf: Buffer, offset: number, metadata: Uint8Array): number {
  const at = putHeader(buf, offset, RecordType.Metadata, metadata.length);
  buf.set(metadata, at);
  return at + metadata.length;
}

function confStateLists(cs: ConfState): readonly (readonly NodeId[])[] {
  return [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext];
}

/** The payload size of a snapshot mark. */
export function snapshotMarkBytes(mark: SnapshotMark): number {
  let ids = 0;
  for (const list of confStateLists(mark.confState)) ids += list.length;
  return 17 + 4 * 4 + 8 * ids;
}

/** Writes a snapshot mark payload (no record header) at `offset`; returns the offset after it. */
export function putSnapshotMarkPayload(buf: Buffer, offset: number, mark: SnapshotMark): number {
  putU64(buf, offset, mark.index);
  putU64(buf, offset + 8, mark.term);
  buf[offset + 16] = mark.confState.autoLeave ? 1 : 0;
  let at = offset + 17;
  for (const list of confStateLists(mark.confState)) {
    buf.writeUInt32LE(list.length, at);
    at += 4;
    for (const id of list) {
      buf.writeBigUInt64LE(id, at);
      at += 8;
    }
  }
  return at;
}

/** Writes a snapshot mark record; returns the offset after it. */
export function putSnapshotMark(buf: Buffer, offset: number, mark: SnapshotMark): number {
  const at = putHeader(buf, offset, RecordType.SnapshotMark, snapshotMarkBytes(mark));
  return putSnapshotMarkPayload(buf, at, mark);
}

/**
 * Fills the crc of every record in buf[start, end), chaining from `seed`; returns the last crc.
 * A Crc record is seeded with its own payload (see the layout above).
 */
export function sealRecords(buf: Buffer, start: number, end: number, seed: number): number {
  let crc = seed;
  let at = start;
  while (at < end) {
    const length = buf.readUInt32LE(at + 4);
    const next = at + RECORD_HEADER_BYTES + length;
    assert(next <= end, 'wal: sealRecords ran past the batch');
    if (buf[at + 8] === RecordType.Crc) crc = buf.readUInt32LE(at + RECORD_HEADER_BYTES);
    crc = crc32c(buf.subarray(at + 4, next), crc);
    buf.writeUInt32LE(crc, at);
    at = next;
  }
  return crc;
}

/** A plain Uint8Array copy of buf[start, end) (not a Buffer: callers compare with plain arrays). */
export function copyBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const copy = new Uint8Array(end - start);
  copy.set(buf.subarray(start, end));
  return copy;
}

/** Decodes an entry payload; undefined when malformed. The data is copied out of `buf`. */
export function decodeEntry(buf: Buffer, start: number, end: number): Entry | undefined {
  if (end - start < ENTRY_HEADER_BYTES) return undefined;
  const kind = buf[start];
  const term = getU64(buf, start + 1);
  const index = getU64(buf, start + 9);
  if ((kind !== 0 && kind !== 1) || term === undefined || index === undefined) return undefined;
  return {
    term,
    index,
    type: kind === 1 ? EntryType.ConfChange : EntryType.Normal,
    data: copyBytes(buf, start + ENTRY_HEADER_BYTES, end),
  };
}

/** Reads only the index of an entry payload (to skip entries before a snapshot cheaply). */
export function peekEntryIndex(buf: Buffer, start: number, end: number): number | undefined {
  if (end - start < ENTRY_HEADER_BYTES) return undefined;
  return getU64(buf, start + 9);
}

/** Decodes a hard state payload; undefined when malformed. */
export function decodeHardState(buf: Buffer, start: number, end: number): HardState | undefined {
  if (end - start !== HARD_STATE_BYTES) return undefined;
  const term = getU64(buf, start);
  const commit = getU64(buf, start + 16);
  if (term === undefined || commit === undefined) return undefined;
  return { term, vote: buf.readBigUInt64LE(start + 8), commit };
}

/** Decodes a snapshot mark payload; undefined when malformed. */
export function decodeSnapshotMark(
  buf: Buffer, start: number, end: number,
): SnapshotMark | undefined {
  if (end - start < 17 + 16) return undefined;
  const index = getU64(buf, start);
  const term = getU64(buf, start + 8);
  const autoLeave = buf[start + 16];
  if (index === undefined || term === undefined || (autoLeave !== 0 && autoLeave !== 1)) {
    return undefined;
  }
  const lists: NodeId[][] = [];
  let at = start + 17;
  for (let i = 0; i < 4; i++) {
    if (at + 4 > end) return undefined;
    const count = buf.readUInt32LE(at);
    at += 4;
    if (count > (end - at) / 8) return undefined;
    const ids: NodeId[] = [];
    for (let j = 0; j < count; j++, at += 8) ids.push(buf.readBigUInt64LE(at));
    lists.push(ids);
  }
  if (at !== end) return undefined;
  const [voters = [], learners = [], votersOutgoing = [], learnersNext = []] = lists;
  return {
    index,
    term,
    confState: { voters, learners, votersOutgoing, learnersNext, autoLeave: autoLeave === 1 },
  };
}
