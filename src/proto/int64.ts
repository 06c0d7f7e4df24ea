// How 64-bit protobuf fields appear in TypeScript, decided once for every message: ids (member,
// cluster, lease, alarm member, leader, move-leader target) are `bigint`; revisions, counts, TTLs,
// indexes and terms are `number` (exact to 2^53). Also the Long↔bigint bridge for code that meets
// protobufjs's own Long values (its reflection `toObject`, or a grpc-js client).

/** Field names (as in the .proto files) whose 64-bit values are ids and so `bigint`. */
export const ID_FIELD_NAMES: ReadonlySet<string> = new Set([
  'cluster_id',
  'member_id',
  'memberID',
  'ID',
  'targetID',
  'leader',
  'lease',
]);

/** True when a field of this name and protobuf scalar type is carried as `bigint`. */
export function isIdField(name: string, type: string): boolean {
  return is64BitType(type) && ID_FIELD_NAMES.has(name);
}

/** True for the protobuf scalar types that are 64 bits wide. */
export function is64BitType(type: string): boolean {
  return (
    type === 'int64' ||
    type === 'uint64' ||
    type === 'sint64' ||
    type === 'fixed64' ||
    type === 'sfixed64'
  );
}

/** The shape of a protobufjs / long.js Long value. */
export interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

/** Converts a Long (or a number or decimal string, as protobufjs may give) to a bigint. */
export function longToBigint(v: LongLike | number | string, unsigned = false): bigint {
  if (typeof v === 'number' || typeof v === 'string') return BigInt(v);
  const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return (v.unsigned ?? unsigned) ? u : BigInt.asIntN(64, u);
}

/** Converts a bigint to a Long-shaped value (two's complement halves) that protobufjs encodes. */
export function bigintToLong(v: bigint, unsigned = false): LongLike {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned };
}
