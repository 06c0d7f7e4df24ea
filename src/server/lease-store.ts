// The lessor's durable records in the key space's LMDB environment (a side table), written in the
// apply's batch so a grant or revoke commits together with the key writes of the same entry.
import type { LeaseRecord, LeaseStore } from '../lease/index.ts';
import type { Store } from '../mvcc/index.ts';

/** Lease records in the key space's LMDB environment (written in the apply's batch). */
export class AuxLeaseStore implements LeaseStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  putLease(record: LeaseRecord): void {
    const key = Buffer.alloc(8);
    key.writeBigInt64BE(BigInt.asIntN(64, record.id));
    const value = Buffer.alloc(16);
    value.writeDoubleBE(record.ttlSeconds, 0);
    value.writeDoubleBE(record.remainingTtlSeconds, 8);
    this.#store.batch(() => this.#store.auxTable('leases').put(key, value));
  }

  deleteLease(id: bigint): void {
    const key = Buffer.alloc(8);
    key.writeBigInt64BE(BigInt.asIntN(64, id));
    this.#store.batch(() => this.#store.auxTable('leases').delete(key));
  }

  listLeases(): LeaseRecord[] {
    return this.#store.auxTable('leases').entries().map(({ key, value }) => ({
      id: BigInt.asUintN(64, key.readBigInt64BE(0)),
      ttlSeconds: value.readDoubleBE(0),
      remainingTtlSeconds: value.readDoubleBE(8),
    }));
  }
}
