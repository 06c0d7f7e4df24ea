// Member and cluster ids as etcd 3.4 derives them (membership.NewMember, RaftCluster.genID), so a
// test can say which ids a recipe must produce: a member's id is the first 8 bytes (big-endian)
// of SHA-1 over its sorted peer URLs followed by the cluster token; the cluster's id is the same
// over the sorted member ids, each as 8 big-endian bytes.
import { createHash } from 'node:crypto';

/** The id etcd gives a member of the initial cluster (no time mixed in, unlike `member add`). */
export function etcdMemberId(peerUrls: readonly string[], token: string): bigint {
  const text = [...peerUrls].sort().join('') + token;
  return createHash('sha1').update(text).digest().readBigUInt64BE(0);
}

/** The cluster id etcd derives from the initial members' ids. */
export function etcdClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(buf).digest().readBigUInt64BE(0);
}

/** An id as etcdctl prints it in tables and `member list` (`%x`). */
export function hexId(id: bigint): string {
  return id.toString(16);
}

/** An id as etcdctl prints it in `member add|promote|remove` messages (`%16x`: space-padded). */
export function paddedHexId(id: bigint): string {
  return id.toString(16).padStart(16, ' ');
}
