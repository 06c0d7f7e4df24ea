// Member and cluster ids, derived exactly as etcd derives them, so that the same recipe gives the
// same ids and two clusters with different tokens never merge:
//   member id  = first 8 bytes (big-endian) of sha1(sorted peer URLs joined + cluster token [+ unix time])
//   cluster id = first 8 bytes of sha1(the sorted member ids, each as 8 big-endian bytes)
import { createHash } from 'node:crypto';

/** The id of a member with these peer URLs; `addedAtUnixSeconds` for members added at runtime. */
export function computeMemberId(peerUrls: readonly string[], clusterToken: string, addedAtUnixSeconds?: number): bigint {
  let text = [...peerUrls].sort().join('') + clusterToken;
  if (addedAtUnixSeconds !== undefined) text += String(addedAtUnixSeconds);
  return createHash('sha1').update(text).digest().readBigUInt64BE(0);
}

/** The id of a cluster of these members. */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(bytes).digest().readBigUInt64BE(0);
}

/** Hex form as etcd prints ids (`etcdctl member list`, logs). */
export function idToHex(id: bigint): string {
  return id.toString(16);
}

/**
 * Request ids unique across members and restarts, as etcd's idutil: the top 16 bits are the low
 * bits of the member id, then a 40-bit millisecond timestamp and an 8-bit counter, the low 48
 * bits incremented for every id.
 */
export class RequestIdGenerator {
  #prefix: bigint;
  #suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.#prefix = (memberId & 0xffffn) << 48n;
    this.#suffix = (BigInt(Math.floor(nowMs)) & 0xff_ffff_ffffn) << 8n;
  }

  next(): bigint {
    this.#suffix = (this.#suffix + 1n) & 0xffff_ffff_ffffn;
    return this.#prefix | this.#suffix;
  }
}
