// The cluster's membership as the applied log defines it: who the members are (id, name, peer
// and client URLs, learner or voter) and which ids were removed (a removed id never comes back,
// as etcd's). Stored in the key space's LMDB environment (side table "members"), written in the
// apply's batch, so it is as durable as the applied index and travels inside backend snapshots.
// Also the encoding of what membership entries carry: a configuration change's context is the
// proposing request's id followed by the etcdserverpb.Member it concerns.
import { codec } from '../proto/index.ts';
import type { Store } from '../mvcc/index.ts';
import type { MemberInfo } from './storage.ts';

const memberCodec = codec('etcdserverpb.Member');
const KIND_MEMBER = 0x6d; // 'm'
const KIND_REMOVED = 0x78; // 'x'
const KIND_REFUSED = 0x72; // 'r': a configuration change refused at apply, by entry index

function key(kind: number, id: bigint): Buffer {
  const buf = Buffer.alloc(9);
  buf[0] = kind;
  buf.writeBigUInt64BE(id, 1);
  return buf;
}

/** Members ordered by id (etcd lists them so). */
function byId(a: MemberInfo, b: MemberInfo): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The members table over a store. Reads are cached; writes go through the store's batch. */
export class Membership {
  readonly #store: Store;
  #members = new Map<bigint, MemberInfo>();
  #removed = new Set<bigint>();
  #refused = new Set<number>();

  constructor(store: Store) {
    this.#store = store;
    this.reload();
  }

  /** Reads the table again (after the store was replaced by a snapshot). */
  reload(): void {
    this.#members.clear();
    this.#removed.clear();
    this.#refused.clear();
    for (const { key: k, value } of this.#store.auxTable('members').entries()) {
      const id = k.readBigUInt64BE(1);
      if (k[0] === KIND_REMOVED) this.#removed.add(id);
      else if (k[0] === KIND_MEMBER) this.#members.set(id, decodeMember(value));
      else if (k[0] === KIND_REFUSED) this.#refused.add(Number(id));
    }
  }

  /** True when no member is recorded (a data dir that predates the table, or a fresh one). */
  get empty(): boolean {
    return this.#members.size === 0 && this.#removed.size === 0;
  }

  list(): MemberInfo[] {
    return [...this.#members.values()].map(copy).sort(byId);
  }

  get(id: bigint): MemberInfo | undefined {
    const m = this.#members.get(id);
    return m === undefined ? undefined : copy(m);
  }

  isRemoved(id: bigint): boolean {
    return this.#removed.has(id);
  }

  /** The member that already uses one of `peerUrls`, other than `except`. */
  findByPeerUrls(peerUrls: readonly string[], except?: bigint): MemberInfo | undefined {
    const wanted = new Set(peerUrls);
    for (const m of this.#members.values()) {
      if (m.id !== except && m.peerUrls.some((u) => wanted.has(u))) return copy(m);
    }
    return undefined;
  }

  /** True when the configuration change at `index` was refused when first applied. */
  wasRefused(index: number): boolean {
    return this.#refused.has(index);
  }

  // ---- writes (inside the apply's batch) ----

  /** Records that the configuration change at `index` was refused (its replay must be too). */
  markRefused(index: number): void {
    this.#store.batch(() => this.#store.auxTable('members').put(key(KIND_REFUSED, BigInt(index)), Buffer.alloc(0)));
    this.#refused.add(index);
  }

  put(member: MemberInfo): void {
    const m = copy(member);
    this.#store.batch(() => this.#store.auxTable('members').put(key(KIND_MEMBER, m.id), encodeMember(m)));
    this.#members.set(m.id, m);
  }

  /** Forgets every member, removal and refusal, then records `members` (a snapshot restored as a new cluster). */
  replaceAll(members: readonly MemberInfo[]): void {
    this.#store.batch(() => {
      const table = this.#store.auxTable('members');
      for (const { key: k } of table.entries()) table.delete(k);
    });
    this.reload();
    this.#store.batch(() => members.forEach((m) => this.put(m)));
  }

  remove(id: bigint): void {
    this.#store.batch(() => {
      const table = this.#store.auxTable('members');
      table.delete(key(KIND_MEMBER, id));
      table.put(key(KIND_REMOVED, id), Buffer.alloc(0));
    });
    this.#members.delete(id);
    this.#removed.add(id);
  }
}

function copy(m: MemberInfo): MemberInfo {
  return { ...m, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls] };
}

/** etcdserverpb.Member bytes of a member. */
export function encodeMember(m: MemberInfo): Uint8Array {
  return memberCodec.encode({ ID: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner });
}

export function decodeMember(bytes: Uint8Array): MemberInfo {
  const m = memberCodec.decode(bytes);
  return { id: m.ID, name: m.name, peerUrls: [...m.peerURLs], clientUrls: [...m.clientURLs], isLearner: m.isLearner };
}

/** A configuration change's context: the request id, then the member (may be absent on removal). */
export function encodeChangeContext(requestId: bigint, member: MemberInfo | undefined): Uint8Array {
  const body = member === undefined ? new Uint8Array(0) : encodeMember(member);
  const out = Buffer.alloc(8 + body.length);
  out.writeBigUInt64BE(requestId, 0);
  out.set(body, 8);
  return out;
}

export function decodeChangeContext(context: Uint8Array): { requestId: bigint; member: MemberInfo | undefined } {
  if (context.length < 8) return { requestId: 0n, member: undefined };
  const buf = Buffer.from(context.buffer, context.byteOffset, context.byteLength);
  const requestId = buf.readBigUInt64BE(0);
  return { requestId, member: buf.length > 8 ? decodeMember(buf.subarray(8)) : undefined };
}
