// proto/: etcd v3.4's API (.proto files under ./etcd, wire-compatible with etcd's) and what is
// built from them: message types, compiled codecs, the service table, the int64 mapping.
// Other rooms import from this file only.
export * from './messages.ts';
export { codec, decode, encode, GRPC_FRAME_HEADER_BYTES, ProtoDecodeError } from './codec.ts';
export type { Codec, Init, MessageName } from './codec.ts';
export { methodByPath, services } from './services.ts';
export type { MethodDescriptor, ServiceDescriptor, ServiceName } from './services.ts';
export { bigintToLong, ID_FIELD_NAMES, isIdField, longToBigint } from './int64.ts';
export type { LongLike } from './int64.ts';
export { messageSchemas, PROTO_DIR, PROTO_FILES, protoRoot, serviceSchemas } from './schema.ts';
export type { FieldSchema, MessageSchema, MethodSchema, ServiceSchema } from './schema.ts';
