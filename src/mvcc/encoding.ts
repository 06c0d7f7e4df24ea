// Byte encodings of the backend: revision keys, order-preserving escaped user keys for the
// history index, the live-key record, and etcd's mvccpb.KeyValue protobuf (stored verbatim so
// that hashKV matches etcd's). Pure functions; every layout is drawn in store.ts's header.
import type { KeyValue } from './types.ts';

/** Bytes of a revision key: main (u64 BE) then sub (u64 BE). */
export const revisionBytes = 16;
/** Bytes of a live-key record: main, sub, createRevision, version (u64 BE), lease (i64 BE). */
export const liveRecordBytes = 40;

const two32 = 0x1_0000_0000;

function writeU64(buf: Buffer, offset: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / two32), offset);
  buf.writeUInt32BE(n >>> 0, offset + 4);
}

function readU64(buf: Uint8Array, offset: number): number {
  const b = buf as Buffer;
  return b.readUInt32BE(offset) * two32 + b.readUInt32BE(offset + 4);
}

/** The 16-byte key of revision (main, sub); byte order is revision order. */
export function encodeRevision(main: number, sub: number): Buffer {
  const buf = Buffer.allocUnsafe(revisionBytes);
  writeU64(buf, 0, main);
  writeU64(buf, 8, sub);
  return buf;
}

/** Reads the revision at `offset` of `buf` (default: the whole 16-byte key). */
export function decodeRevision(buf: Uint8Array, offset = 0): { main: number; sub: number } {
  return { main: readU64(buf, offset), sub: readU64(buf, offset + 8) };
}

/**
 * The escaped form of a user key plus a terminator: 0x00 becomes 0x00 0xFF and the end is
 * 0x00 0x01. Escaped forms compare like the keys and no escaped form is a prefix of another,
 * so appending a revision keeps the order "by key bytes, then by revision".
 */
export function escapeKey(key: Uint8Array): Buffer {
  let zeros = 0;
  for (const b of key) if (b === 0) zeros++;
  const out = Buffer.allocUnsafe(key.length + zeros + 2);
  let j = 0;
  for (const b of key) {
    out[j++] = b;
    if (b === 0) out[j++] = 0xff;
  }
  out[j++] = 0;
  out[j] = 1;
  return out;
}

/** The escaped bytes of `key` without the terminator: an exclusive upper bound for the index. */
export function escapeBound(key: Uint8Array): Buffer {
  const full = escapeKey(key);
  return full.subarray(0, full.length - 2);
}

/** Inverts escapeKey on an escaped key with its terminator. */
export function unescapeKey(escaped: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(escaped.length - 2);
  let j = 0;
  for (let i = 0; i < escaped.length - 2; i++) {
    const b = escaped[i]!;
    out[j++] = b;
    if (b === 0) i++;
  }
  return out.subarray(0, j);
}

/** The history-index key of (key, revision): escaped key, terminator, revision. */
export function encodeIndexKey(escaped: Buffer, main: number, sub: number): Buffer {
  const buf = Buffer.allocUnsafe(escaped.length + revisionBytes);
  escaped.copy(buf, 0);
  writeU64(buf, escaped.length, main);
  writeU64(buf, escaped.length + 8, sub);
  return buf;
}

/** What the live-keys table knows about a key without reading its value. */
export interface LiveRecord {
  main: number;
  sub: number;
  createRevision: number;
  version: number;
  lease: bigint;
}

/** Encodes a live-key record (liveRecordBytes long). */
export function encodeLiveRecord(r: LiveRecord): Buffer {
  const buf = Buffer.allocUnsafe(liveRecordBytes);
  writeU64(buf, 0, r.main);
  writeU64(buf, 8, r.sub);
  writeU64(buf, 16, r.createRevision);
  writeU64(buf, 24, r.version);
  buf.writeBigInt64BE(r.lease, 32);
  return buf;
}

/** Decodes a live-key record. */
export function decodeLiveRecord(buf: Uint8Array): LiveRecord {
  return {
    main: readU64(buf, 0),
    sub: readU64(buf, 8),
    createRevision: readU64(buf, 16),
    version: readU64(buf, 24),
    lease: (buf as Buffer).readBigInt64BE(32),
  };
}

/** etcd's backend key of a revision: main (8) '_' sub (8), plus 't' for a tombstone. */
export function etcdBucketKey(main: number, sub: number, tombstone: boolean): Buffer {
  const buf = Buffer.allocUnsafe(tombstone ? 18 : 17);
  writeU64(buf, 0, main);
  buf[8] = 0x5f;
  writeU64(buf, 9, sub);
  if (tombstone) buf[17] = 0x74;
  return buf;
}

// --- mvccpb.KeyValue protobuf: 1 key, 2 create_revision, 3 mod_revision, 4 version, 5 value,
// 6 lease. Zero fields are omitted and fields come in number order, as gogo-protobuf writes them.

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

const u64 = (1n << 64n) - 1n;

function leaseVarint(lease: bigint): number[] {
  let v = lease & u64; // two's complement, as protobuf writes a negative int64
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function fieldSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

/** Encodes a KeyValue exactly as etcd stores it; a tombstone is `{ key }` alone. */
export function encodeKeyValue(kv: KeyValue): Buffer {
  const lease = kv.lease === 0n ? [] : leaseVarint(kv.lease);
  const keyLen = kv.key.length;
  const valueLen = kv.value.length;
  const size =
    (keyLen === 0 ? 0 : 1 + varintSize(keyLen) + keyLen) +
    fieldSize(kv.createRevision) +
    fieldSize(kv.modRevision) +
    fieldSize(kv.version) +
    (valueLen === 0 ? 0 : 1 + varintSize(valueLen) + valueLen) +
    (lease.length === 0 ? 0 : 1 + lease.length);
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  if (keyLen !== 0) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, keyLen);
    buf.set(kv.key, pos);
    pos += keyLen;
  }
  const numbers: [number, number][] = [
    [0x10, kv.createRevision],
    [0x18, kv.modRevision],
    [0x20, kv.version],
  ];
  for (const [tag, n] of numbers) {
    if (n === 0) continue;
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, n);
  }
  if (valueLen !== 0) {
    buf[pos++] = 0x2a;
    pos = writeVarint(buf, pos, valueLen);
    buf.set(kv.value, pos);
    pos += valueLen;
  }
  if (lease.length !== 0) {
    buf[pos++] = 0x30;
    for (const b of lease) buf[pos++] = b;
  }
  return buf;
}

const empty = new Uint8Array(0);

/**
 * Decodes a stored KeyValue. Bytes fields are views into `buf`, which must be a private copy.
 * A tombstone decodes with modRevision 0.
 */
export function decodeKeyValue(buf: Uint8Array): KeyValue {
  const kv: KeyValue = {
    key: empty,
    createRevision: 0,
    modRevision: 0,
    version: 0,
    value: empty,
    lease: 0n,
  };
  let pos = 0;
  const readVarint = (): number => {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = buf[pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  };
  while (pos < buf.length) {
    const tag = buf[pos++]!;
    switch (tag) {
      case 0x0a: {
        const len = readVarint();
        kv.key = buf.subarray(pos, pos + len);
        pos += len;
        break;
      }
      case 0x10: kv.createRevision = readVarint(); break;
      case 0x18: kv.modRevision = readVarint(); break;
      case 0x20: kv.version = readVarint(); break;
      case 0x2a: {
        const len = readVarint();
        kv.value = buf.subarray(pos, pos + len);
        pos += len;
        break;
      }
      case 0x30: kv.lease = BigInt.asIntN(64, readLeaseVarint()); break;
      default:
        throw new Error(`mvcc: cannot decode KeyValue: unexpected tag ${tag} at ${pos - 1}`);
    }
  }
  return kv;

  function readLeaseVarint(): bigint {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  }
}

/** True when the stored KeyValue bytes are a tombstone (only the key field is present). */
export function isTombstoneBytes(buf: Uint8Array): boolean {
  if (buf[0] !== 0x0a) return true;
  let pos = 1;
  let len = 0;
  let scale = 1;
  for (;;) {
    const b = buf[pos++]!;
    len += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 0x80;
  }
  return pos + len >= buf.length;
}
