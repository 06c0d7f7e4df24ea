// Protobuf wire primitives used by the generated codecs: varints read forward, written backward.
// Writers fill a buffer from its end (gogoproto's MarshalToSizedBuffer order), so a nested message's
// length is known when its prefix is written and no size is computed twice. 64-bit values travel as
// two uint32 halves (lo, hi); `bigint` and `number` views are built from them here and nowhere else.

/** A position in a buffer being decoded; `pos` advances as fields are read. */
export interface Reader {
  buf: Buffer;
  pos: number;
}

/** A decode failure: the bytes are not a valid encoding of the expected message. */
export class ProtoDecodeError extends Error {
  override name = 'ProtoDecodeError';
}

const TWO_32 = 4294967296;
const MASK_32 = 0xffffffffn;

function truncated(): never {
  throw new ProtoDecodeError('proto: unexpected end of buffer');
}

/** Reads a varint as a uint32 (higher bits of longer varints are dropped, as int32 decoding does). */
export function readVarint32(r: Reader): number {
  const buf = r.buf;
  let pos = r.pos;
  let b = buf[pos++];
  if (b === undefined) truncated();
  let v = b & 0x7f;
  if (b < 0x80) {
    r.pos = pos;
    return v;
  }
  for (let shift = 7; shift < 70; shift += 7) {
    b = buf[pos++];
    if (b === undefined) truncated();
    if (shift < 32) v |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = pos;
      return v >>> 0;
    }
  }
  throw new ProtoDecodeError('proto: varint overflows 64 bits');
}

// Halves of the last 64-bit varint read; module state keeps the hot path free of allocations.
let lo = 0;
let hi = 0;

function readVarint64Halves(r: Reader): void {
  const buf = r.buf;
  let pos = r.pos;
  let l = 0;
  let h = 0;
  let shift = 0;
  let b: number | undefined;
  for (; shift < 28; shift += 7) {
    b = buf[pos++];
    if (b === undefined) truncated();
    l |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  if (shift >= 28) {
    b = buf[pos++];
    if (b === undefined) truncated();
    l |= (b & 0x7f) << 28;
    h = (b & 0x7f) >>> 4;
    for (shift = 3; b >= 0x80; shift += 7) {
      if (shift > 31) throw new ProtoDecodeError('proto: varint overflows 64 bits');
      b = buf[pos++];
      if (b === undefined) truncated();
      h |= (b & 0x7f) << shift;
    }
  }
  lo = l >>> 0;
  hi = h >>> 0;
  r.pos = pos;
}

/** Reads an int64 varint as a number (exact to 2^53; revisions, counts, TTLs). */
export function readInt64Number(r: Reader): number {
  readVarint64Halves(r);
  if (hi >>> 31) return -((~lo >>> 0) + 1 + (~hi >>> 0) * TWO_32);
  return lo + hi * TWO_32;
}

/** Reads a uint64 varint as a number (exact to 2^53; raft index and term). */
export function readUint64Number(r: Reader): number {
  readVarint64Halves(r);
  return lo + hi * TWO_32;
}

// A two-entry cache of id conversions: a member answers with the same cluster and member id in
// every response header, and building a bigint from halves (or back) allocates several bigints.
let cacheBig0 = 0n;
let cacheLo0 = 0;
let cacheHi0 = 0;
let cacheBig1 = 0n;
let cacheLo1 = 0;
let cacheHi1 = 0;

function bigintFromHalves(l: number, h: number): bigint {
  if (l === cacheLo0 && h === cacheHi0) return cacheBig0;
  if (l === cacheLo1 && h === cacheHi1) return cacheBig1;
  const v = (BigInt(h) << 32n) | BigInt(l);
  cacheBig1 = cacheBig0;
  cacheLo1 = cacheLo0;
  cacheHi1 = cacheHi0;
  cacheBig0 = v;
  cacheLo0 = l;
  cacheHi0 = h;
  return v;
}

/** Sets `lo`/`hi` to the two's complement halves of a bigint. */
function halvesOfBigint(v: bigint): void {
  if (v === cacheBig0) {
    lo = cacheLo0;
    hi = cacheHi0;
    return;
  }
  if (v === cacheBig1) {
    lo = cacheLo1;
    hi = cacheHi1;
    return;
  }
  const u = BigInt.asUintN(64, v);
  lo = Number(u & MASK_32);
  hi = Number(u >> 32n);
  if (v >= 0n) {
    cacheBig1 = cacheBig0;
    cacheLo1 = cacheLo0;
    cacheHi1 = cacheHi0;
    cacheBig0 = v;
    cacheLo0 = lo;
    cacheHi0 = hi;
  }
}

/** Reads an int64 varint as a bigint (ids). */
export function readInt64Bigint(r: Reader): bigint {
  readVarint64Halves(r);
  if (hi === 0) return BigInt(lo);
  if (hi >>> 31) return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  return bigintFromHalves(lo, hi);
}

/** Reads a uint64 varint as a bigint (ids). */
export function readUint64Bigint(r: Reader): bigint {
  readVarint64Halves(r);
  if (hi === 0) return BigInt(lo);
  return bigintFromHalves(lo, hi);
}

/** Reads a length-delimited field's length and checks it fits before `end`. */
export function readLength(r: Reader, end: number): number {
  const len = readVarint32(r);
  if (len > end - r.pos) truncated();
  return len;
}

/** Reads a bytes field as a view of the input (no copy: the view keeps the input alive). */
export function readBytes(r: Reader, end: number): Buffer {
  const len = readLength(r, end);
  const start = r.pos;
  r.pos = start + len;
  return r.buf.subarray(start, start + len);
}

/** Reads a string field (UTF-8). */
export function readString(r: Reader, end: number): string {
  const len = readLength(r, end);
  const start = r.pos;
  r.pos = start + len;
  return r.buf.toString('utf8', start, start + len);
}

/** Skips an unknown field whose tag was just read. */
export function skipField(r: Reader, tag: number, end: number): void {
  switch (tag & 7) {
    case 0:
      readVarint32(r);
      return;
    case 1:
      r.pos += 8;
      break;
    case 2:
      r.pos += readLength(r, end);
      return;
    case 5:
      r.pos += 4;
      break;
    default:
      throw new ProtoDecodeError(`proto: illegal wire type ${tag & 7} for field ${tag >>> 3}`);
  }
  if (r.pos > end) truncated();
}

/** Bytes needed by a varint of a uint32 (or non-negative int32). */
export function sizeVarint32(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes needed by an int32 varint: negative values are sign-extended to 10 bytes. */
export function sizeInt32(v: number): number {
  return v < 0 ? 10 : sizeVarint32(v);
}

function sizeHalves(l: number, h: number): number {
  if (h === 0) return sizeVarint32(l);
  return h < 0x8 ? 5 : h < 0x400 ? 6 : h < 0x20000 ? 7 : h < 0x1000000 ? 8 : h < 0x80000000 ? 9 : 10;
}

/** Bytes needed by a 64-bit varint of a number (two's complement when negative). */
export function sizeNumber64(v: number): number {
  if (v >= 0 && v < 0x80000000) return sizeVarint32(v);
  return sizeHalves(v >>> 0, Math.floor(v / TWO_32) >>> 0);
}

/** Bytes needed by a 64-bit varint of a bigint (two's complement when negative). */
export function sizeBigint64(v: bigint): number {
  if (v >= 0n && v < 0x80000000n) return sizeVarint32(Number(v));
  halvesOfBigint(v);
  return sizeHalves(lo, hi);
}

function writeHalvesBack(buf: Buffer, end: number, l: number, h: number): number {
  const p = end - sizeHalves(l, h);
  let i = p;
  while (h !== 0 || l > 0x7f) {
    buf[i++] = (l & 0x7f) | 0x80;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  buf[i] = l;
  return p;
}

/** Writes a uint32 varint ending at `end`; returns where it starts. */
export function writeVarint32Back(buf: Buffer, end: number, v: number): number {
  if (v < 0x80) {
    buf[end - 1] = v;
    return end - 1;
  }
  return writeHalvesBack(buf, end, v >>> 0, 0);
}

/** Writes an int32 varint ending at `end` (negative: 10 bytes); returns where it starts. */
export function writeInt32Back(buf: Buffer, end: number, v: number): number {
  if (v >= 0) return writeVarint32Back(buf, end, v);
  return writeHalvesBack(buf, end, v >>> 0, 0xffffffff);
}

/** Writes a 64-bit varint of a number ending at `end`; returns where it starts. */
export function writeNumber64Back(buf: Buffer, end: number, v: number): number {
  if (v >= 0 && v < 0x80) {
    buf[end - 1] = v;
    return end - 1;
  }
  return writeHalvesBack(buf, end, v >>> 0, Math.floor(v / TWO_32) >>> 0);
}

/** Writes a 64-bit varint of a bigint ending at `end`; returns where it starts. */
export function writeBigint64Back(buf: Buffer, end: number, v: bigint): number {
  if (v >= 0n && v < 0x80000000n) return writeVarint32Back(buf, end, Number(v));
  halvesOfBigint(v);
  return writeHalvesBack(buf, end, lo, hi);
}

/** Writes bytes (a Uint8Array, or a string as UTF-8) ending at `end`, then its length prefix. */
export function writeBytesBack(buf: Buffer, end: number, v: Uint8Array | string): number {
  let p: number;
  if (typeof v === 'string') {
    const len = Buffer.byteLength(v);
    p = end - len;
    buf.write(v, p, len, 'utf8');
  } else {
    p = end - v.length;
    buf.set(v, p);
  }
  return writeVarint32Back(buf, p, end - p);
}

/** Bytes needed by a bytes or string field's payload and length prefix (without the tag). */
export function sizeBytes(v: Uint8Array | string): number {
  const len = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  return sizeVarint32(len) + len;
}
