// The snapshot body on the wire: the Raft Snap message as one frame, then the backend database in
// chunks, each carrying the running CRC32C of everything sent so far, then an end record. The
// receiver verifies each chunk before handing it on, so corruption is caught where it happens;
// both sides hold at most a few chunks at a time (pull-based iteration, HTTP/2 flow control).
//
//   body  = frame(Snap message) | chunk* | end
//   chunk = u32 length (1..snapshotChunkBytes) | u32 running crc32c after this chunk | data
//   end   = u32 0 | u32 crc32c of all data | u32 total high | u32 total low
import { crc32c } from '@node-rs/crc32';
import type { Message } from '../raft/index.ts';
import { ByteQueue, readU32, writeU32 } from './bytes.ts';
import { FRAME_PREFIX_BYTES, decodeMessage, encodeFrames } from './codec.ts';
import { TransportError, TransportErrorCode } from './errors.ts';

const RECORD_HEADER_BYTES = 8;
const END_RECORD_BYTES = 16;

/** Changes a chunk after its checksum is computed: how tests inject corruption in flight. */
export type ChunkTamper = (chunkIndex: number, chunk: Uint8Array) => Uint8Array;

/** Options of `encodeSnapshotBody`. */
export interface EncodeSnapshotOptions {
  /** Chunk size, in bytes (the last chunk may be shorter). */
  chunkBytes: number;
  tamper?: ChunkTamper | undefined;
}

/** The records of a snapshot body, produced lazily as the database is read. */
export async function* encodeSnapshotBody(
  msg: Message,
  db: AsyncIterable<Uint8Array>,
  options: EncodeSnapshotOptions,
): AsyncGenerator<Uint8Array> {
  yield encodeFrames([msg]);
  let crc = 0;
  let total = 0;
  let index = 0;
  for await (const chunk of rechunk(db, options.chunkBytes)) {
    crc = crc32c(chunk, crc);
    total += chunk.length;
    const record = new Uint8Array(RECORD_HEADER_BYTES + chunk.length);
    writeU32(record, 0, chunk.length);
    writeU32(record, 4, crc);
    record.set(options.tamper === undefined ? chunk : options.tamper(index, chunk), RECORD_HEADER_BYTES);
    index += 1;
    yield record;
  }
  const end = new Uint8Array(END_RECORD_BYTES);
  writeU32(end, 4, crc);
  writeU32(end, 8, Math.floor(total / 0x1_0000_0000));
  writeU32(end, 12, total >>> 0);
  yield end;
}

/** Regroups arbitrary pieces into chunks of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(size);
  let filled = 0;
  for await (const piece of source) {
    let at = 0;
    while (at < piece.length) {
      if (filled === 0 && piece.length - at >= size) {
        yield piece.subarray(at, at + size);
        at += size;
        continue;
      }
      const n = Math.min(size - filled, piece.length - at);
      buf.set(piece.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield buf;
        buf = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buf.subarray(0, filled);
}

/** Limits a reader enforces, in bytes. */
export interface SnapshotReaderLimits {
  frameBytesMax: number;
  snapshotChunkBytes: number;
}

/**
 * Reads a snapshot body from a byte source: first `message()`, then `body()`, which yields each
 * verified chunk and throws TransportError (corrupt, truncated, malformed) on any fault.
 */
export class SnapshotReader {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #queue = new ByteQueue();
  readonly #limits: SnapshotReaderLimits;
  #complete = false;
  #started = false;

  constructor(source: AsyncIterable<Uint8Array>, limits: SnapshotReaderLimits) {
    this.#source = source[Symbol.asyncIterator]();
    this.#limits = limits;
  }

  /** True once the end record was read and verified. */
  get complete(): boolean {
    return this.#complete;
  }

  /** Reads the Snap message that heads the body. */
  async message(): Promise<Message> {
    await this.#fill(FRAME_PREFIX_BYTES, 'the snapshot message');
    const size = this.#queue.peekU32();
    if (size > this.#limits.frameBytesMax) {
      throw new TransportError(
        TransportErrorCode.TooLarge,
        `transport: snapshot message of ${size} bytes exceeds the limit of ${this.#limits.frameBytesMax}`,
      );
    }
    await this.#fill(FRAME_PREFIX_BYTES + size, 'the snapshot message');
    this.#queue.skip(FRAME_PREFIX_BYTES);
    return decodeMessage(this.#queue.take(size));
  }

  /** The database chunks, each verified before it is yielded. Iterate once, after `message()`. */
  async *body(): AsyncGenerator<Uint8Array> {
    if (this.#started) throw new Error('transport: snapshot body iterated twice');
    this.#started = true;
    let crc = 0;
    let total = 0;
    for (let index = 0; ; index++) {
      await this.#fill(RECORD_HEADER_BYTES, `snapshot chunk ${index}`);
      const length = this.#queue.peekU32();
      if (length === 0) break;
      const max = this.#limits.snapshotChunkBytes;
      if (length > max) {
        throw new TransportError(
          TransportErrorCode.TooLarge,
          `transport: snapshot chunk ${index} of ${length} bytes exceeds the limit of ${max}`,
        );
      }
      await this.#fill(RECORD_HEADER_BYTES + length, `snapshot chunk ${index}`);
      const expected = readU32(this.#queue.take(RECORD_HEADER_BYTES), 4);
      const data = this.#queue.take(length);
      crc = crc32c(data, crc);
      if (crc !== expected) {
        throw new TransportError(
          TransportErrorCode.SnapshotCorrupt,
          `transport: snapshot chunk ${index} at byte ${total}: crc32c mismatch`,
        );
      }
      total += length;
      yield data;
    }
    await this.#verifyEnd(crc, total);
  }

  async #verifyEnd(crc: number, total: number): Promise<void> {
    await this.#fill(END_RECORD_BYTES, 'the snapshot end record');
    const end = this.#queue.take(END_RECORD_BYTES);
    const sentTotal = readU32(end, 8) * 0x1_0000_0000 + readU32(end, 12);
    if (readU32(end, 4) !== crc || sentTotal !== total) {
      throw new TransportError(
        TransportErrorCode.SnapshotCorrupt,
        `transport: snapshot end record: sender counted ${sentTotal} bytes, received ${total}, ` +
          'or crc32c mismatch',
      );
    }
    if (this.#queue.length > 0 || !(await this.#source.next()).done) {
      throw new TransportError(TransportErrorCode.Malformed, 'transport: bytes after the snapshot end record');
    }
    this.#complete = true;
  }

  async #fill(n: number, what: string): Promise<void> {
    while (this.#queue.length < n) {
      const next = await this.#source.next();
      if (next.done === true) {
        throw new TransportError(
          TransportErrorCode.SnapshotTruncated,
          `transport: snapshot body ended inside ${what} (${this.#queue.length} of ${n} bytes)`,
        );
      }
      this.#queue.push(next.value);
    }
  }
}
