// Types for the part of hpack.js (an HPACK implementation, RFC 7541) that hpack-block.ts uses, and
// the compressor its tests encode with (dynamic table, Huffman coding).
declare module 'hpack.js' {
  /** A decoded header field; name and value hold one char per byte (latin1). */
  export interface DecodedField {
    name: string;
    value: string;
    neverIndex: boolean;
  }

  /** A decoder with its own dynamic table; a stream in object mode. */
  export interface Decompressor {
    write(block: Buffer): boolean;
    /** Decodes what was written; emits 'error' when the input is malformed. */
    execute(): void;
    read(): DecodedField | null;
    on(event: 'error', listener: (err: Error) => void): this;
  }

  /** A field to encode: indexed when it can be, else "with incremental indexing" by default. */
  export interface FieldToEncode {
    name: string;
    value: string;
    huffman?: boolean;
    neverIndex?: boolean;
    incremental?: boolean;
  }

  /** An encoder with its own dynamic table; each write yields one header block's bytes. */
  export interface Compressor {
    write(fields: FieldToEncode[]): boolean;
    read(): Buffer | null;
    /** Emits dynamic table size updates to 0 and back: the table is emptied on both sides. */
    reset(): void;
  }

  const hpack: {
    /** RFC 7541 Appendix A: `table[i]` is the entry at index i + 1. */
    'static-table': { table: readonly { name: string; value: string }[] };
    decompressor: {
      create(options: { table: { maxSize: number } }): Decompressor;
    };
    compressor: {
      create(options: { table: { maxSize: number } }): Compressor;
    };
  };
  export default hpack;
}
