// A FIFO of received byte chunks read as one contiguous sequence: the frame and snapshot decoders
// push network chunks in and take whole records out, copying only when a record spans chunks, so
// a large frame arriving in many small chunks costs one copy, not one per chunk.
import { assert } from '../util/assert.ts';

/** Received bytes not yet consumed. */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  /** Bytes of the first chunk already consumed. */
  #head = 0;
  #length = 0;

  /** Bytes available. */
  get length(): number {
    return this.#length;
  }

  /** Appends a chunk (kept by reference: the caller must not reuse it). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The big-endian u32 at the front, without consuming it. Needs 4 bytes available. */
  peekU32(): number {
    const b = this.peek(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  /** The first `n` bytes without consuming them (a view when they lie in one chunk). */
  peek(n: number): Uint8Array {
    assert(n <= this.#length, () => `bytes: peek of ${n} with ${this.#length} available`);
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#head >= n) {
      return first.subarray(this.#head, this.#head + n);
    }
    this.#compact(n);
    return this.#chunks[0]!.subarray(0, n);
  }

  /** Consumes and returns `n` bytes (a view into a received chunk, or one copy if they span). */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  /** Consumes `n` bytes. */
  skip(n: number): void {
    assert(n <= this.#length, () => `bytes: skip of ${n} with ${this.#length} available`);
    this.#length -= n;
    while (n > 0) {
      const first = this.#chunks[0]!;
      const rest = first.length - this.#head;
      if (n < rest) {
        this.#head += n;
        return;
      }
      n -= rest;
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  /** Merges the leading chunks into one holding at least `n` bytes. */
  #compact(n: number): void {
    const merged = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const available = this.#chunks.shift()!.subarray(this.#head);
      this.#head = 0;
      const part = available.subarray(0, n - filled);
      merged.set(part, filled);
      filled += part.length;
      if (part.length < available.length) this.#chunks.unshift(available.subarray(part.length));
    }
    this.#chunks.unshift(merged);
  }
}

/** Reads a big-endian u32 from `bytes` at `at`. */
export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Writes a big-endian u32 into `bytes` at `at`. */
export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}
