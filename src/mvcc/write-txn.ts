// A write transaction: puts and deletes at one new main revision (current + 1), one sub revision
// each, seen by its own ranges. It runs inside the store's open LMDB transaction; the store
// commits it and publishes the revision only when the callback returns.
import type { Backend } from './backend.ts';
import {
  decodeLiveRecord,
  encodeIndexKey,
  encodeKeyValue,
  encodeLiveRecord,
  encodeRevision,
  escapeKey,
} from './encoding.ts';
import { MvccError, MvccErrorCode } from './errors.ts';
import { putMark, tombstoneMark } from './key-index.ts';
import { rangeKeys, readKeyValue, toKeyRange } from './read.ts';
import { EventType } from './types.ts';
import type {
  DeleteOptions,
  DeleteResult,
  Event,
  KeyValue,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
} from './types.ts';

const emptyValue = new Uint8Array(0);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Reads and writes of one write transaction. Valid only inside the store's write callback. */
export class WriteTxn {
  readonly #backend: Backend;
  readonly #beginRevision: number;
  readonly #compacted: number;
  readonly #events: Event[] = [];
  #open = true;

  /** @internal Created by the store. */
  constructor(backend: Backend, beginRevision: number, compacted: number) {
    this.#backend = backend;
    this.#beginRevision = beginRevision;
    this.#compacted = compacted;
  }

  /** The revision this txn's reads see: the begin revision, +1 once it has written. */
  get revision(): number {
    return this.#events.length > 0 ? this.#beginRevision + 1 : this.#beginRevision;
  }

  /** Ranges over the store as this txn sees it (its own writes included). */
  range(key: Uint8Array, rangeEnd?: Uint8Array, options: RangeOptions = {}): RangeResult {
    this.#checkOpen();
    const view = { current: this.revision, compacted: this.#compacted };
    return rangeKeys(this.#backend, view, { key, rangeEnd, options });
  }

  /** Writes `value` at `key` in this txn's revision; the key's version grows by one. */
  put(key: Uint8Array, value: Uint8Array, options: PutOptions = {}): PutResult {
    this.#checkOpen();
    this.#checkKey(key);
    const b = this.#backend;
    const rev = this.#beginRevision + 1;
    const sub = this.#events.length;
    const keyBuf = asBuffer(key);
    const lease = options.lease ?? 0n;
    const liveBuf = b.live.get(keyBuf);
    const prev = liveBuf === undefined ? undefined : decodeLiveRecord(liveBuf);
    const prevKv =
      prev !== undefined && options.prevKv === true
        ? readKeyValue(b, prev.main, prev.sub)
        : undefined;
    const kv: KeyValue = {
      key: Uint8Array.from(key),
      createRevision: prev === undefined ? rev : prev.createRevision,
      modRevision: rev,
      version: prev === undefined ? 1 : prev.version + 1,
      value: Uint8Array.from(value),
      lease,
    };
    b.revs.putSync(encodeRevision(rev, sub), encodeKeyValue(kv));
    b.index.putSync(encodeIndexKey(escapeKey(key), rev, sub), putMark);
    b.live.putSync(
      keyBuf,
      encodeLiveRecord({
        main: rev,
        sub,
        createRevision: kv.createRevision,
        version: kv.version,
        lease,
      }),
    );
    this.#events.push(
      prevKv === undefined
        ? { type: EventType.put, kv, sub }
        : { type: EventType.put, kv, prevKv, sub },
    );
    return { revision: rev, prevKv, prevLease: prev === undefined ? 0n : prev.lease };
  }

  /** Deletes every live key in the etcd range (key, rangeEnd), writing one tombstone each. */
  deleteRange(key: Uint8Array, rangeEnd?: Uint8Array, options: DeleteOptions = {}): DeleteResult {
    this.#checkOpen();
    const b = this.#backend;
    const range = toKeyRange(key, rangeEnd);
    const victims: { key: Buffer; live: Buffer }[] = [];
    if (range.single) {
      const live = key.length === 0 ? undefined : b.live.get(asBuffer(key));
      if (live !== undefined) victims.push({ key: Buffer.from(key), live });
    } else if (range.end === undefined || Buffer.compare(asBuffer(range.start), range.end) < 0) {
      const bounds =
        range.end === undefined
          ? { start: asBuffer(range.start) }
          : { start: asBuffer(range.start), end: asBuffer(range.end) };
      for (const { key: k, value } of b.live.getRange(bounds)) {
        victims.push({ key: k, live: value });
      }
    }
    const result: DeleteResult = { deleted: 0, prevKvs: [], leases: [], keys: [], revision: 0 };
    for (const victim of victims) this.#deleteOne(victim, options.prevKv === true, result);
    result.revision = this.revision;
    return result;
  }

  #deleteOne(victim: { key: Buffer; live: Buffer }, wantPrev: boolean, out: DeleteResult): void {
    const b = this.#backend;
    const rev = this.#beginRevision + 1;
    const sub = this.#events.length;
    const prev = decodeLiveRecord(victim.live);
    const prevKv = wantPrev ? readKeyValue(b, prev.main, prev.sub) : undefined;
    const key = Uint8Array.from(victim.key);
    const tombstone: KeyValue = {
      key,
      createRevision: 0,
      modRevision: 0,
      version: 0,
      value: emptyValue,
      lease: 0n,
    };
    b.revs.putSync(encodeRevision(rev, sub), encodeKeyValue(tombstone));
    b.index.putSync(encodeIndexKey(escapeKey(victim.key), rev, sub), tombstoneMark);
    b.live.removeSync(victim.key);
    // A DELETE event carries the delete's revision as modRevision, as etcd's watchers see it.
    const kv: KeyValue = { ...tombstone, modRevision: rev };
    this.#events.push(
      prevKv === undefined
        ? { type: EventType.delete, kv, sub }
        : { type: EventType.delete, kv, prevKv, sub },
    );
    out.deleted++;
    out.keys.push(key);
    out.leases.push(prev.lease);
    if (prevKv !== undefined) out.prevKvs.push(prevKv);
  }

  #checkKey(key: Uint8Array): void {
    // The index key is the escaped key (up to 2× for zero bytes) + 2 + 16 bytes.
    let zeros = 0;
    for (const byte of key) if (byte === 0) zeros++;
    const indexBytes = key.length + zeros + 18;
    if (key.length === 0) throw new MvccError(MvccErrorCode.emptyKey);
    if (indexBytes > this.#backend.maxKeyBytes) {
      throw new MvccError(MvccErrorCode.keyTooLarge, { detail: `${key.length} bytes` });
    }
  }

  #checkOpen(): void {
    if (!this.#open) throw new Error('mvcc: write txn used after its callback returned');
  }

  /** @internal Closes the txn and hands its events to the store. */
  end(): Event[] {
    this.#open = false;
    return this.#events;
  }
}
