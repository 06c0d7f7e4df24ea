// Typed encode/decode of etcd's messages. Decoded messages carry every field (proto3 defaults
// filled in; unset sub-messages and oneof members are undefined; bytes are views of the input);
// encoders take `Init<T>`: any field may be left out, bytes may be given as strings (UTF-8).
import { compiledMessages } from './compile.ts';
import type { CompiledMessage } from './compile.ts';
import type { MessageTypes } from './messages.ts';
import { ProtoDecodeError } from './wire.ts';
import type { Reader } from './wire.ts';

/** What an encoder accepts for a decoded message type `T`: every field optional, deeply. */
export type Init<T> = T extends Uint8Array
  ? Uint8Array | string
  : T extends bigint | number | string | boolean
    ? T
    : T extends readonly (infer E)[]
      ? readonly Init<E>[]
      : { [K in keyof T]?: Init<T[K]> | undefined };

/** Full names of every message of the API (`etcdserverpb.PutRequest`). */
export type MessageName = keyof MessageTypes;

/** Bytes of a gRPC message prefix: compressed flag (1) and big-endian length (4). */
export const GRPC_FRAME_HEADER_BYTES = 5;

/** Encoder and decoder of one message type. */
export interface Codec<T> {
  /** Full name: `etcdserverpb.PutRequest`. */
  readonly typeName: string;
  /** Encoded size in bytes. */
  encodedSize(msg: Init<T>): number;
  /** Encodes into a new buffer of the exact size. */
  encode(msg: Init<T>): Buffer;
  /** Encodes as one uncompressed gRPC length-prefixed message (5-byte header, then the message). */
  encodeFrame(msg: Init<T>): Buffer;
  /** Decodes a whole buffer; throws ProtoDecodeError on malformed input. */
  decode(bytes: Uint8Array): T;
}

// One reader reused by every decode: decoding is synchronous and never re-entered.
const reader: Reader = { buf: Buffer.alloc(0), pos: 0 };

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

class CompiledCodec<T> implements Codec<T> {
  readonly typeName: string;
  readonly #fns: CompiledMessage;

  constructor(typeName: string, fns: CompiledMessage) {
    this.typeName = typeName;
    this.#fns = fns;
  }

  encodedSize(msg: Init<T>): number {
    return this.#fns.size(msg as object);
  }

  encode(msg: Init<T>): Buffer {
    const fns = this.#fns;
    const size = fns.size(msg as object);
    const buf = Buffer.allocUnsafe(size);
    const start = fns.write(msg as object, buf, size);
    if (start !== 0) throw new Error(`proto: ${this.typeName}: size and write disagree`);
    return buf;
  }

  encodeFrame(msg: Init<T>): Buffer {
    const fns = this.#fns;
    const size = fns.size(msg as object);
    const buf = Buffer.allocUnsafe(size + GRPC_FRAME_HEADER_BYTES);
    const start = fns.write(msg as object, buf, size + GRPC_FRAME_HEADER_BYTES);
    if (start !== GRPC_FRAME_HEADER_BYTES) {
      throw new Error(`proto: ${this.typeName}: size and write disagree`);
    }
    buf[0] = 0;
    buf.writeUInt32BE(size, 1);
    return buf;
  }

  decode(bytes: Uint8Array): T {
    const buf = asBuffer(bytes);
    reader.buf = buf;
    reader.pos = 0;
    try {
      return this.#fns.decode(reader, buf.length, 0) as T;
    } catch (err) {
      if (err instanceof ProtoDecodeError) throw err;
      // A RangeError from the generated code (e.g. an absurd length) is still malformed input.
      throw new ProtoDecodeError(`proto: ${this.typeName}: ${(err as Error).message}`);
    }
  }
}

const codecs = new Map<string, CompiledCodec<unknown>>();

/** The codec of a message type, by full name; created once and cached. */
export function codec<N extends MessageName>(name: N): Codec<MessageTypes[N]> {
  let c = codecs.get(name);
  if (c === undefined) {
    const fns = compiledMessages.get(name);
    if (fns === undefined) throw new Error(`proto: unknown message type ${name}`);
    c = new CompiledCodec(name, fns);
    codecs.set(name, c);
  }
  return c as Codec<MessageTypes[N]>;
}

/** Encodes a message of the named type. */
export function encode<N extends MessageName>(name: N, msg: Init<MessageTypes[N]>): Buffer {
  return codec(name).encode(msg);
}

/** Decodes a message of the named type. */
export function decode<N extends MessageName>(name: N, bytes: Uint8Array): MessageTypes[N] {
  return codec(name).decode(bytes);
}

export { ProtoDecodeError };
