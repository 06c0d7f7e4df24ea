// The simulated members' state machine: a string→string map driven by committed entries.
// Commands carry (client, seq); a command is applied at most once per client sequence number, so a
// proposal duplicated by the network (a forwarded Prop delivered twice) cannot apply twice.
// Invariant: `digest` is an order-independent hash of the map, equal on members at equal applied index.
import type { KvInput, KvOutput } from './checkers/kv-model.ts';

/** A write command as it travels in an entry. `c` is the client, `s` its sequence number. */
export interface KvCommand {
  c: number;
  s: number;
  input: KvInput;
}

/** The outcome of applying a command. */
export interface KvApplied {
  /** True when this (client, seq) was applied before: nothing changed. */
  duplicate: boolean;
  output: KvOutput;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a command as entry data (JSON). */
export function encodeCommand(cmd: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

/** Decoded commands by entry data: in the simulator every member sees the same bytes object. */
const decoded = new WeakMap<Uint8Array, KvCommand>();

/** Decodes entry data written by `encodeCommand` (treat the result as read-only: it is shared). */
export function decodeCommand(data: Uint8Array): KvCommand {
  let cmd = decoded.get(data);
  if (cmd === undefined) {
    cmd = JSON.parse(decoder.decode(data)) as KvCommand;
    decoded.set(data, cmd);
  }
  return cmd;
}

/** FNV-1a over a string, 32 bits. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** FNV-1a over bytes, 32 bits. */
export function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const pairHash = (k: string, v: string): number => hashString(v, hashString(k) ^ 0x5bd1e995);

interface KvImage {
  data: [string, string][];
  seq: [number, number][];
}

/** The key-value state machine of one member. */
export class KvStore {
  readonly #data = new Map<string, string>();
  readonly #lastSeq = new Map<number, number>();
  #digest = 0;

  /** An order-independent hash of the key-value pairs. */
  get digest(): number {
    return this.#digest;
  }

  /** The value of `key`, or null. */
  get(key: string): string | null {
    return this.#data.get(key) ?? null;
  }

  /** Applies a write command (get is never proposed). */
  apply(cmd: KvCommand): KvApplied {
    const last = this.#lastSeq.get(cmd.c) ?? -1;
    if (cmd.s <= last) return { duplicate: true, output: {} };
    this.#lastSeq.set(cmd.c, cmd.s);
    const input = cmd.input;
    switch (input.op) {
      case 'put':
        this.#set(input.key, input.value);
        return { duplicate: false, output: {} };
      case 'delete': {
        const existed = this.#data.has(input.key);
        this.#set(input.key, null);
        return { duplicate: false, output: { deleted: existed } };
      }
      case 'cas': {
        const ok = this.get(input.key) === input.expected;
        if (ok) this.#set(input.key, input.value);
        return { duplicate: false, output: { ok } };
      }
      case 'get':
        return { duplicate: false, output: { value: this.get(input.key) } };
    }
  }

  /** The state as snapshot data. */
  serialize(): Uint8Array {
    const image: KvImage = { data: [...this.#data], seq: [...this.#lastSeq] };
    return encoder.encode(JSON.stringify(image));
  }

  /** Replaces the state with snapshot data (empty data: the empty state). */
  restore(bytes: Uint8Array): void {
    this.#data.clear();
    this.#lastSeq.clear();
    this.#digest = 0;
    if (bytes.length === 0) return;
    const image = JSON.parse(decoder.decode(bytes)) as KvImage;
    for (const [k, v] of image.data) this.#set(k, v);
    for (const [c, s] of image.seq) this.#lastSeq.set(c, s);
  }

  #set(key: string, value: string | null): void {
    const old = this.#data.get(key);
    if (old !== undefined) this.#digest = (this.#digest - pairHash(key, old)) >>> 0;
    if (value === null) {
      this.#data.delete(key);
    } else {
      this.#data.set(key, value);
      this.#digest = (this.#digest + pairHash(key, value)) >>> 0;
    }
  }
}
