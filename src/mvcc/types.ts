// The plain data the key space speaks: key-values, events, range options and results.
// Revisions and versions are numbers (safe to 2^53); lease ids are bigint (STYLE §5).

/** A key's value at one revision, as etcd's mvccpb.KeyValue. */
export interface KeyValue {
  key: Uint8Array;
  /** Main revision of the put that created this generation of the key. */
  createRevision: number;
  /** Main revision of the last change (for a DELETE event: the delete's revision). */
  modRevision: number;
  /** Number of puts in this generation: 1 after create; 0 in a DELETE event. */
  version: number;
  value: Uint8Array;
  /** The lease attached, 0n for none. */
  lease: bigint;
}

/** A (main, sub) revision: one main revision per write transaction, one sub per change in it. */
export interface Revision {
  main: number;
  sub: number;
}

/** Event kinds, as mvccpb.Event.EventType. */
export const EventType = { put: 'PUT', delete: 'DELETE' } as const;
/** One of EventType's values. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/** One change of the key space. `prevKv` is set when asked for and a previous value existed. */
export interface Event {
  type: EventType;
  kv: KeyValue;
  prevKv?: KeyValue;
  /** The sub revision of the change inside its main revision (kv.modRevision). */
  sub: number;
}

/** Options of a key-space range, as etcd's mvcc.RangeOptions. */
export interface RangeOptions {
  /** The revision to read at; 0 or absent reads the current revision. */
  revision?: number;
  /** At most this many kvs; 0 or absent for no limit. `count` is unaffected. */
  limit?: number;
  /** Return only the count, no kvs. */
  countOnly?: boolean;
}

/** The answer of a key-space range. */
export interface RangeResult {
  kvs: KeyValue[];
  /** How many keys matched, regardless of `limit`. */
  count: number;
  /** The store's (or the write txn's) current revision when read: the header revision. */
  revision: number;
}

/** Options of a put inside a write transaction. */
export interface PutOptions {
  /** The lease to attach, 0n (default) for none. */
  lease?: bigint;
  /** Read and return the previous value (costs one more backend read). */
  prevKv?: boolean;
}

/** What a put did. */
export interface PutResult {
  /** The main revision the put was written at. */
  revision: number;
  /** The previous value, when asked for and the key existed. */
  prevKv: KeyValue | undefined;
  /** The lease the key had before the put, 0n for none or for a new key. */
  prevLease: bigint;
}

/** Options of a delete-range inside a write transaction. */
export interface DeleteOptions {
  /** Return the deleted key-values (with values; costs one backend read per key). */
  prevKv?: boolean;
}

/** What a delete-range did. */
export interface DeleteResult {
  /** How many keys were deleted. */
  deleted: number;
  /** The deleted keys' values when asked for (else empty). */
  prevKvs: KeyValue[];
  /** The deleted keys' leases (0n for none), in key order: the lessor detaches them. */
  leases: bigint[];
  /** The deleted keys, in key order. */
  keys: Uint8Array[];
  /** The txn's revision after this operation (unchanged when nothing was written). */
  revision: number;
}

/** The outcome of one write transaction. */
export interface WriteResult<T> {
  /** What the transaction callback returned. */
  result: T;
  /** The store's revision after the txn: the new one, or the old one if nothing changed. */
  revision: number;
  /** The changes, in sub-revision order, for watchers. Empty when nothing changed. */
  events: Event[];
}
