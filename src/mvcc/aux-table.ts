// Small side tables in the key space's LMDB environment (leases, members, alarms): a write
// joins the store's current batch, so it commits atomically with the key writes of the same
// applied entry and with the consistent index.
import type { Database, RootDatabase } from 'lmdb';

/** Names of the side tables. */
export type AuxTableName = 'leases' | 'members' | 'alarms' | 'auth';

/** A byte-keyed side table. Writes must run inside `Store.batch` (or `write`). */
export class AuxTable {
  readonly #db: Database<Buffer, Buffer>;

  constructor(root: RootDatabase<Buffer, Buffer>, name: AuxTableName) {
    this.#db = root.openDB<Buffer, Buffer>({ name: `aux-${name}`, keyEncoding: 'binary', encoding: 'binary' });
  }

  get(key: Uint8Array): Buffer | undefined {
    return this.#db.get(Buffer.from(key.buffer, key.byteOffset, key.byteLength));
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.#db.putSync(Buffer.from(key.buffer, key.byteOffset, key.byteLength), Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }

  delete(key: Uint8Array): void {
    this.#db.removeSync(Buffer.from(key.buffer, key.byteOffset, key.byteLength));
  }

  /** Every entry, in key order. */
  entries(): Array<{ key: Buffer; value: Buffer }> {
    const out: Array<{ key: Buffer; value: Buffer }> = [];
    for (const { key, value } of this.#db.getRange({})) out.push({ key: Buffer.from(key), value: Buffer.from(value) });
    return out;
  }
}
