// What members ask the leader over the peer transport (transport.request), and how the answers
// are encoded: keep-alives and time-to-live of leases (only the leader counts leases down) and
// learner promotion (only the leader knows how far a learner has caught up).
/** The methods a member serves to its peers. */
export const PeerMethod = {
  leaseRenew: 'lease-renew',
  leaseTtl: 'lease-ttl',
  memberPromote: 'member-promote',
} as const;

/** LeaseTimeToLive's answer. */
export interface LeaseTimeToLive {
  ttlSeconds: number;
  grantedTtlSeconds: number;
  keys: Uint8Array[];
}

export function encodeTimeToLive(ttl: LeaseTimeToLive | undefined): Uint8Array {
  if (ttl === undefined) return new Uint8Array(0);
  return Buffer.from(JSON.stringify({ ttl: ttl.ttlSeconds, granted: ttl.grantedTtlSeconds, keys: ttl.keys.map((k) => Buffer.from(k).toString('base64')) }));
}

export function decodeTimeToLive(bytes: Uint8Array): LeaseTimeToLive | undefined {
  if (bytes.length === 0) return undefined;
  const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { ttl: number; granted: number; keys: string[] };
  return { ttlSeconds: parsed.ttl, grantedTtlSeconds: parsed.granted, keys: parsed.keys.map((k) => Buffer.from(k, 'base64')) };
}

export function idBytes(id: bigint): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(id);
  return out;
}

export function readId(bytes: Uint8Array): bigint {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE(0);
}

/** A lease-ttl request: the lease id, and whether its keys are wanted. */
export function encodeTtlRequest(id: bigint, keys: boolean): Uint8Array {
  const body = Buffer.alloc(9);
  body.writeBigUInt64BE(id, 0);
  body[8] = keys ? 1 : 0;
  return body;
}

export function encodeTtl(ttlSeconds: number): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeBigInt64BE(BigInt(ttlSeconds));
  return out;
}

export function decodeTtl(bytes: Uint8Array): number {
  return Number(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigInt64BE(0));
}
