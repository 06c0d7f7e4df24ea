// What a benchmark run does: the options (etcd's `benchmark` vocabulary where it has a word) and
// the request bodies, as gRPC length-prefixed messages. Keys are decimal numbers zero-padded to
// --key-size bytes, so a key can be rewritten in place in a pre-encoded frame.
import { codec, services } from '../../src/proto/index.ts';

/** Workloads the generator knows. */
export const WORKLOADS = ['put', 'range', 'txn', 'watch'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Which client drives unary load: h2load (fixed body), our lean client, or chosen per run. */
export type Driver = 'auto' | 'h2load' | 'lean';

/** One run. */
export interface BenchOptions {
  endpoints: string[];
  workload: Workload;
  /** Bytes per key (etcd's --key-size). */
  keyBytes: number;
  /** Bytes per value (etcd's --val-size). */
  valueBytes: number;
  /** Requests in all (for watch: puts, each observed by every watcher). */
  total: number;
  /** HTTP/2 connections, spread over the endpoints round-robin. */
  conns: number;
  /** Requests outstanding at once, across all connections. */
  inFlight: number;
  /** Range reads: l (linearizable, ReadIndex) or s (serializable, local). */
  consistency: 'l' | 's';
  /** Distinct keys written/read; 1 means one fixed key (what h2load can post). */
  keySpaceSize: number;
  /** Keys 0, 1, 2… in order instead of random (etcd's --sequential-keys). */
  sequentialKeys: boolean;
  /** Watch streams (watch workload only). */
  watchers: number;
  driver: Driver;
  json: boolean;
}

/** Defaults: DESIGN.md's reference workload (32-byte keys, 256-byte values). */
export const DEFAULT_OPTIONS: Omit<BenchOptions, 'endpoints' | 'workload'> = {
  keyBytes: 32,
  valueBytes: 256,
  total: 10_000,
  conns: 1,
  inFlight: 1,
  consistency: 'l',
  keySpaceSize: 1,
  sequentialKeys: false,
  watchers: 1,
  driver: 'auto',
  json: false,
};

const KV = services['etcdserverpb.KV'];
/** gRPC method paths. */
export const PATHS = {
  put: KV.Put.path,
  range: KV.Range.path,
  txn: KV.Txn.path,
  watch: services['etcdserverpb.Watch'].Watch.path,
} as const;

/** Key number `i`, zero-padded to `keyBytes`. */
export function keyOf(i: number, keyBytes: number): string {
  const digits = String(i);
  if (digits.length > keyBytes) throw new Error(`bench: key ${i} does not fit in --key-size ${keyBytes}`);
  return digits.padStart(keyBytes, '0');
}

/** A unary request frame for key 0, and where its key bytes sit in the frame (for rewriting). */
export interface UnaryBody {
  path: string;
  frame: Buffer;
  /** Offset of the key's first byte in `frame`. */
  keyOffset: number;
}

/** The request frame of a unary workload. */
export function unaryBody(o: Pick<BenchOptions, 'workload' | 'keyBytes' | 'valueBytes' | 'consistency'>): UnaryBody {
  const key = keyOf(0, o.keyBytes);
  const value = 'v'.repeat(o.valueBytes);
  let frame: Buffer;
  switch (o.workload) {
    case 'put':
      frame = codec('etcdserverpb.PutRequest').encodeFrame({ key, value });
      break;
    case 'range':
      frame = codec('etcdserverpb.RangeRequest').encodeFrame({ key, serializable: o.consistency === 's' });
      break;
    case 'txn':
      frame = codec('etcdserverpb.TxnRequest').encodeFrame({ success: [{ requestPut: { key, value } }] });
      break;
    case 'watch':
      throw new Error('bench: watch is not a unary workload');
  }
  const keyOffset = frame.indexOf(key, 0, 'latin1');
  if (keyOffset < 0) throw new Error('bench: key not found in the encoded request');
  return { path: PATHS[o.workload], frame, keyOffset };
}

/** Writes key number `i` over the key bytes at `offset` (same width, so the frame stays valid). */
export function patchKey(frame: Buffer, offset: number, i: number, keyBytes: number): void {
  let n = i;
  for (let at = offset + keyBytes - 1; at >= offset; at--) {
    frame[at] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
}

/** Picks key numbers: sequential or uniformly random over the key space. */
export function keyPicker(o: Pick<BenchOptions, 'keySpaceSize' | 'sequentialKeys'>): () => number {
  let next = 0;
  if (o.keySpaceSize <= 1) return () => 0;
  if (o.sequentialKeys) return () => next++ % o.keySpaceSize;
  return () => Math.floor(Math.random() * o.keySpaceSize);
}
