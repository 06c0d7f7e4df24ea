// The narrow interfaces through which the lessor reaches the rest of a member. server/ wires the
// real ones: both write inside the LMDB transaction of the entry being applied, so a revoke's key
// deletions and its lease-record deletion commit together or not at all.

/** A lease as it is stored durably. Expiry is not stored: it is leader-local time. */
export interface LeaseRecord {
  readonly id: bigint;
  /** The granted TTL in seconds (after the minimum TTL was applied). */
  readonly ttlSeconds: number;
  /** The last checkpointed remaining TTL in seconds; 0 when never checkpointed (or cleared). */
  readonly remainingTtlSeconds: number;
}

/** Deletes keys from the key space on behalf of a revoke. */
export interface KeyDeleter {
  /**
   * Deletes every key in `keys` (sorted bytewise, no duplicates) in ONE revision, as one
   * transaction of the key space. Called inside the apply of a revoke, never with an empty list.
   */
  deleteKeys(keys: Uint8Array[]): void;
}

/** The durable lease records (etcd's "lease" bucket). */
export interface LeaseStore {
  /** Creates or replaces the record of `record.id`. */
  putLease(record: LeaseRecord): void;
  /** Removes the record of `id`; a no-op when there is none. */
  deleteLease(id: bigint): void;
  /** Every stored record, in any order. */
  listLeases(): LeaseRecord[];
}

/** A LeaseStore in memory: for tests, the simulator and members without a disk. */
export class MemoryLeaseStore implements LeaseStore {
  readonly #records = new Map<bigint, LeaseRecord>();

  putLease(record: LeaseRecord): void {
    this.#records.set(record.id, { ...record });
  }

  deleteLease(id: bigint): void {
    this.#records.delete(id);
  }

  listLeases(): LeaseRecord[] {
    return [...this.#records.values()].map((record) => ({ ...record }));
  }
}
