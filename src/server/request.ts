// The payload of a Raft entry that carries a client request: a kind byte, the request id (so the
// member that proposed it can answer its waiter) and the etcd request message, protobuf-encoded.
//
//   0        1                9
//   +--------+----------------+----------------------------------+
//   | kind u8| request id u64 | etcdserverpb request (protobuf)  |
//   +--------+----------------+----------------------------------+
import { codec } from '../proto/index.ts';
import type {
  AlarmRequest,
  CompactionRequest,
  DeleteRangeRequest,
  LeaseCheckpointRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  Member,
  PutRequest,
  TxnRequest,
} from '../proto/index.ts';
import type { Init } from '../proto/index.ts';

/** A request that goes through Raft. */
export type InternalRequest =
  | { kind: 'put'; id: bigint; request: PutRequest }
  | { kind: 'deleteRange'; id: bigint; request: DeleteRangeRequest }
  | { kind: 'txn'; id: bigint; request: TxnRequest }
  | { kind: 'compaction'; id: bigint; request: CompactionRequest }
  | { kind: 'leaseGrant'; id: bigint; request: LeaseGrantRequest }
  | { kind: 'leaseRevoke'; id: bigint; request: LeaseRevokeRequest }
  | { kind: 'leaseCheckpoint'; id: bigint; request: LeaseCheckpointRequest }
  | { kind: 'alarm'; id: bigint; request: AlarmRequest }
  /** A member publishes its name and client URLs (etcd's publish; ID, name, clientURLs). */
  | { kind: 'memberAttributes'; id: bigint; request: Member }
  /** MemberUpdate: a member's new peer URLs (ID, peerURLs). */
  | { kind: 'memberUpdate'; id: bigint; request: Member };

export type InternalRequestKind = InternalRequest['kind'];

const kinds = ['put', 'deleteRange', 'txn', 'compaction', 'leaseGrant', 'leaseRevoke', 'leaseCheckpoint', 'alarm', 'memberAttributes', 'memberUpdate'] as const;

const codecs = {
  put: codec('etcdserverpb.PutRequest'),
  deleteRange: codec('etcdserverpb.DeleteRangeRequest'),
  txn: codec('etcdserverpb.TxnRequest'),
  compaction: codec('etcdserverpb.CompactionRequest'),
  leaseGrant: codec('etcdserverpb.LeaseGrantRequest'),
  leaseRevoke: codec('etcdserverpb.LeaseRevokeRequest'),
  leaseCheckpoint: codec('etcdserverpb.LeaseCheckpointRequest'),
  alarm: codec('etcdserverpb.AlarmRequest'),
  memberAttributes: codec('etcdserverpb.Member'),
  memberUpdate: codec('etcdserverpb.Member'),
} as const;

const HEADER_BYTES = 9;

/** Encodes a request for a Raft entry. */
export function encodeRequest<K extends InternalRequestKind>(
  kind: K,
  id: bigint,
  request: Init<Extract<InternalRequest, { kind: K }>['request']>,
): Uint8Array {
  const c = codecs[kind] as unknown as { encodedSize(m: unknown): number; encode(m: unknown): Buffer };
  const body = c.encode(request);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = kinds.indexOf(kind) + 1;
  out.writeBigUInt64BE(id, 1);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** Decodes an entry's payload; throws on a malformed one (which Raft never produces). */
export function decodeRequest(data: Uint8Array): InternalRequest {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER_BYTES) throw new Error(`server: request of ${buf.length} bytes is too short`);
  const kind = kinds[buf[0]! - 1];
  if (kind === undefined) throw new Error(`server: unknown request kind ${buf[0]}`);
  const id = buf.readBigUInt64BE(1);
  const request = codecs[kind].decode(buf.subarray(HEADER_BYTES));
  return { kind, id, request } as InternalRequest;
}
