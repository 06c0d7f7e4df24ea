// Test helpers for HTTP/2 bytes: building frames, cutting a byte stream back into frames and
// header blocks, and an HPACK encoder that uses the dynamic table and Huffman coding as clients do.
import hpack from 'hpack.js';
import type { FieldToEncode } from 'hpack.js';
import { FrameFlag, FrameType } from '../../../src/api/grpc/server/h2-frames.ts';

/** One frame's bytes. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** A parsed frame. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Cuts bytes into frames (they must end on a frame boundary). */
export function frames(bytes: Buffer): Frame[] {
  const out: Frame[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = bytes.readUIntBE(at, 3);
    out.push({
      type: bytes[at + 3]!,
      flags: bytes[at + 4]!,
      streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff,
      payload: bytes.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  if (at !== bytes.length) throw new Error('frames: bytes end inside a frame');
  return out;
}

/** A header block as frames carried it. */
export interface SentBlock {
  streamId: number;
  /** Flags of its HEADERS frame. */
  flags: number;
  /** Its priority fields, when the HEADERS frame had them. */
  priority: Buffer | undefined;
  block: Buffer;
  /** HEADERS plus CONTINUATION frames. */
  frameCount: number;
}

/** The header blocks among frames (padding removed, fragments joined). */
export function headerBlocks(list: readonly Frame[]): SentBlock[] {
  const out: SentBlock[] = [];
  let open: SentBlock | undefined;
  for (const f of list) {
    if (f.type === FrameType.HEADERS) {
      let at = 0;
      let end = f.payload.length;
      if ((f.flags & FrameFlag.PADDED) !== 0) end -= f.payload[at++]!;
      let priority: Buffer | undefined;
      if ((f.flags & FrameFlag.PRIORITY) !== 0) {
        priority = f.payload.subarray(at, at + 5);
        at += 5;
      }
      open = { streamId: f.streamId, flags: f.flags, priority, block: f.payload.subarray(at, end), frameCount: 1 };
    } else if (f.type === FrameType.CONTINUATION && open !== undefined) {
      open.block = Buffer.concat([open.block, f.payload]);
      open.frameCount++;
    } else {
      continue;
    }
    if ((f.flags & FrameFlag.END_HEADERS) !== 0) {
      out.push(open);
      open = undefined;
    }
  }
  return out;
}

/** A client-side HPACK encoder: indexes what it sends, Huffman-codes strings. */
export class ClientEncoder {
  readonly #compressor = hpack.compressor.create({ table: { maxSize: 4096 } });

  encode(fields: readonly (readonly [string, string])[], options: Partial<FieldToEncode> = {}): Buffer {
    this.#compressor.write(fields.map(([name, value]) => ({ name, value, ...options })));
    return this.#drain();
  }

  /** The next block starts with dynamic table size updates that empty the table. */
  reset(): void {
    this.#compressor.reset();
  }

  #drain(): Buffer {
    const chunks: Buffer[] = [];
    for (let b = this.#compressor.read(); b !== null; b = this.#compressor.read()) chunks.push(b);
    return Buffer.concat(chunks);
  }
}

/** Decodes one header block with an empty dynamic table (what the fixer sends needs no more). */
export function decodeAlone(block: Buffer): [string, string][] {
  const d = hpack.decompressor.create({ table: { maxSize: 4096 } });
  let failure: Error | undefined;
  d.on('error', (err) => (failure = err));
  d.write(block);
  d.execute();
  const out: [string, string][] = [];
  for (let f = d.read(); f !== null; f = d.read()) out.push([f.name, f.value]);
  if (failure !== undefined) throw failure;
  return out;
}
