// HPACK (RFC 7541) for the h2c connection fixer: decoding a client's header blocks with a decoder
// that keeps the client's dynamic table (hpack.js), and encoding a header list again with static
// table references and "literal without indexing" / "literal never indexed" representations only,
// so what we send the inner http2 server never refers to, nor changes, its dynamic table.
import hpack from 'hpack.js';
import type { Decompressor } from 'hpack.js';

/** A header field as bytes go on the wire: one char per byte (latin1). */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
  /** Sent as "never indexed" (a sensitive field, RFC 7541 §7.1.3): keep it so. */
  readonly neverIndex: boolean;
}

/**
 * The dynamic table size a client's encoder may use, in bytes: SETTINGS_HEADER_TABLE_SIZE as the
 * inner http2 server announces it (node's default, which GrpcServer does not change).
 */
export const HEADER_TABLE_BYTES = 4096;

/** Decodes the header blocks of one connection, in order (the dynamic table spans them). */
export class HeaderBlockDecoder {
  readonly #decompressor: Decompressor;
  #error: Error | undefined;

  constructor(tableBytes = HEADER_TABLE_BYTES) {
    this.#decompressor = hpack.decompressor.create({ table: { maxSize: tableBytes } });
    this.#decompressor.on('error', (err) => {
      this.#error ??= err;
    });
  }

  /**
   * The fields of a complete header block. Throws on a malformed block; the decoder is of no use
   * after that (its table no longer matches the client's).
   */
  decode(block: Buffer): HeaderField[] {
    this.#failIfBroken();
    this.#decompressor.write(block);
    this.#decompressor.execute();
    const fields: HeaderField[] = [];
    for (let f = this.#decompressor.read(); f !== null; f = this.#decompressor.read()) fields.push(f);
    this.#failIfBroken();
    return fields;
  }

  #failIfBroken(): void {
    const err = this.#error;
    if (err !== undefined) throw new Error(`hpack: cannot decode a header block: ${err.message}`);
  }
}

/** Static table indexes (RFC 7541 Appendix A) by "name\0value", and by name (the first one). */
const STATIC_FIELDS = new Map<string, number>();
const STATIC_NAMES = new Map<string, number>();
for (const [i, { name, value }] of hpack['static-table'].table.entries()) {
  STATIC_FIELDS.set(`${name}\0${value}`, i + 1);
  if (!STATIC_NAMES.has(name)) STATIC_NAMES.set(name, i + 1);
}

/**
 * Encodes fields with static-table references where the table has the field or its name, and
 * literals (no Huffman coding) otherwise; never "with incremental indexing": no dynamic table is
 * used. Static names matter: node's http2 turns them into its cached strings.
 */
export function encodeHeaderBlock(fields: readonly HeaderField[]): Buffer {
  let bytes = 0;
  for (const f of fields) bytes += 6 + stringBytes(f.name) + stringBytes(f.value); // an upper bound
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const f of fields) {
    const full = f.neverIndex ? undefined : STATIC_FIELDS.get(`${f.name}\0${f.value}`);
    if (full !== undefined) {
      out[at] = 0x80; // 1xxxxxxx: indexed field
      at = writeInteger(out, at, full, 7);
      continue;
    }
    // 0000xxxx: literal without indexing; 0001xxxx: literal never indexed. xxxx: the name's
    // static index, or 0 for a literal name.
    const name = STATIC_NAMES.get(f.name) ?? 0;
    out[at] = f.neverIndex ? 0x10 : 0x00;
    at = writeInteger(out, at, name, 4);
    if (name === 0) at = writeString(out, at, f.name);
    at = writeString(out, at, f.value);
  }
  return out.subarray(0, at);
}

/**
 * The authority a client meant when it put a URL in `:authority` ("http://127.0.0.1:2379" →
 * "127.0.0.1:2379"), or undefined when the value has no scheme.
 */
export function authorityWithoutScheme(value: string): string | undefined {
  const scheme = value.indexOf('://');
  if (scheme < 0) return undefined;
  const rest = value.slice(scheme + 3);
  const end = rest.search(/[/?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/** A string literal's size: a 7-bit prefix integer length, then the bytes. */
function stringBytes(s: string): number {
  return integerBytes(s.length, 7) + s.length;
}

function writeString(out: Buffer, at: number, s: string): number {
  out[at] = 0; // H bit 0: no Huffman coding
  at = writeInteger(out, at, s.length, 7);
  return at + out.write(s, at, 'latin1');
}

/** RFC 7541 §5.1: an integer with an N-bit prefix; the bits above it are kept as they are. */
function integerBytes(n: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  if (n < max) return 1;
  let bytes = 2;
  for (let rest = n - max; rest >= 128; rest = Math.floor(rest / 128)) bytes++;
  return bytes;
}

function writeInteger(out: Buffer, at: number, n: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  if (n < max) {
    out[at] = out[at]! | n;
    return at + 1;
  }
  out[at] = out[at]! | max;
  at++;
  let rest = n - max;
  while (rest >= 128) {
    out[at++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[at] = rest;
  return at + 1;
}
