// The cluster's alarms (NOSPACE when the backend passed its quota), kept in a side table of the key
// space so they survive restarts, and mirrored in memory: every write request checks them.

import type { Store } from '../mvcc/index.ts';

/** One raised alarm: which member, which alarm type (1 NOSPACE, 2 CORRUPT, as etcd's AlarmType). */
export interface Alarm {
  memberId: bigint;
  alarm: number;
}

/** etcd's AlarmRequest.AlarmAction. */
const ACTIVATE = 1;
const DEACTIVATE = 2;

/** The alarms of a member, durable in its key space. */
export class AlarmTable {
  readonly #store: Store;
  #alarms: Alarm[];

  constructor(store: Store) {
    this.#store = store;
    this.#alarms = this.#load();
  }

  /** Reads the table again (after the key space was replaced by a snapshot). */
  reload(): void {
    this.#alarms = this.#load();
  }

  /** Whether any alarm is raised. */
  active(): boolean {
    return this.#alarms.length > 0;
  }

  list(): Alarm[] {
    return this.#alarms.map((a) => ({ ...a }));
  }

  /**
   * Applies an activate or deactivate (inside the store's batch). Deactivating alarm 0 clears
   * every alarm of the member. Returns the alarms changed, as etcd's AlarmResponse lists them.
   */
  apply(request: { action: number; memberID: bigint; alarm: number }): Alarm[] {
    const table = this.#store.auxTable('alarms');
    const { action, memberID, alarm } = request;
    const key = Buffer.alloc(12);
    key.writeBigUInt64BE(memberID, 0);
    key.writeUInt32BE(alarm, 8);
    const before = this.list();
    if (action === ACTIVATE && alarm !== 0) table.put(key, Buffer.alloc(0));
    if (action === DEACTIVATE) {
      if (alarm === 0) for (const e of table.entries()) table.delete(e.key);
      else table.delete(key);
    }
    this.#alarms = this.#load();
    if (action !== DEACTIVATE) return [{ memberId: memberID, alarm }];
    return before.filter((a) => a.memberId === memberID && (alarm === 0 || a.alarm === alarm));
  }

  #load(): Alarm[] {
    return this.#store
      .auxTable('alarms')
      .entries()
      .map(({ key }) => ({ memberId: key.readBigUInt64BE(0), alarm: key.readUInt32BE(8) }));
  }
}
