// Loads etcd's API (.proto files under ./etcd) with protobufjs reflection, once, at import, and
// flattens it into plain descriptors: messages with their fields (number, wire kind, TS name, the
// bigint/number choice for 64-bit fields) and services with their methods. Codecs compile from these.
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { isIdField, is64BitType } from './int64.ts';

/** How a field is carried on the wire and in TypeScript. */
export type FieldKind =
  | 'bytes'
  | 'string'
  | 'bool'
  | 'int32'
  | 'uint32'
  | 'enum'
  | 'int64Number'
  | 'uint64Number'
  | 'int64Bigint'
  | 'uint64Bigint'
  | 'message';

/** One field of a message. */
export interface FieldSchema {
  /** Name as written in the .proto file (`range_end`). */
  readonly protoName: string;
  /** Property name in TypeScript objects (`rangeEnd`), protobufjs's camelCase. */
  readonly jsName: string;
  readonly id: number;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  /** The oneof this field belongs to; such a field is encoded whenever set, even to a default. */
  readonly oneof: string | undefined;
  /** Full name (no leading dot) of the message or enum type, for `message` and `enum` kinds. */
  readonly typeName: string | undefined;
}

/** One message type. */
export interface MessageSchema {
  /** Full name without leading dot: `etcdserverpb.PutRequest`. */
  readonly fullName: string;
  /** Fields in field-number order. */
  readonly fields: readonly FieldSchema[];
}

/** One RPC method. */
export interface MethodSchema {
  readonly name: string;
  readonly requestType: string;
  readonly responseType: string;
  readonly clientStreaming: boolean;
  readonly serverStreaming: boolean;
}

/** One service. */
export interface ServiceSchema {
  /** `etcdserverpb.KV` */
  readonly fullName: string;
  readonly methods: readonly MethodSchema[];
}

/** The .proto files, relative to `PROTO_DIR`. */
export const PROTO_FILES: readonly string[] = [
  'mvccpb/kv.proto',
  'authpb/auth.proto',
  'etcdserverpb/rpc.proto',
  'v3lockpb/v3lock.proto',
  'v3electionpb/v3election.proto',
];

/** Directory holding the .proto files (import paths are relative to it). */
export const PROTO_DIR = join(import.meta.dirname, 'etcd');

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(PROTO_FILES.slice(), { keepCase: true });
  root.resolveAll();
  return root;
}

/** protobufjs reflection of the whole API, field names as in the .proto files (keepCase). */
export const protoRoot: protobuf.Root = loadRoot();

const SCALAR_KINDS: Readonly<Record<string, FieldKind>> = {
  bytes: 'bytes',
  string: 'string',
  bool: 'bool',
  int32: 'int32',
  uint32: 'uint32',
};

function fieldKind(field: protobuf.Field): FieldKind {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return 'message';
  if (resolved instanceof protobuf.Enum) return 'enum';
  if (is64BitType(field.type)) {
    if (field.type !== 'int64' && field.type !== 'uint64') {
      throw new Error(`proto: unsupported 64-bit type ${field.type} of ${field.fullName}`);
    }
    const signed = field.type === 'int64';
    if (isIdField(field.name, field.type)) return signed ? 'int64Bigint' : 'uint64Bigint';
    return signed ? 'int64Number' : 'uint64Number';
  }
  const kind = SCALAR_KINDS[field.type];
  if (kind === undefined) throw new Error(`proto: unsupported type ${field.type} of ${field.fullName}`);
  return kind;
}

function fieldSchema(field: protobuf.Field): FieldSchema {
  const resolved = field.resolvedType;
  return {
    protoName: field.name,
    jsName: protobuf.util.camelCase(field.name),
    id: field.id,
    kind: fieldKind(field),
    repeated: field.repeated,
    oneof: field.partOf?.name,
    typeName: resolved === null ? undefined : resolved.fullName.slice(1),
  };
}

function collect(
  ns: protobuf.NamespaceBase,
  messages: Map<string, MessageSchema>,
  services: Map<string, ServiceSchema>,
): void {
  for (const obj of ns.nestedArray) {
    if (obj instanceof protobuf.Type) {
      const fields = obj.fieldsArray.map(fieldSchema).sort((a, b) => a.id - b.id);
      messages.set(obj.fullName.slice(1), { fullName: obj.fullName.slice(1), fields });
    } else if (obj instanceof protobuf.Service) {
      const methods = obj.methodsArray.map((m) => ({
        name: m.name,
        requestType: m.resolvedRequestType!.fullName.slice(1),
        responseType: m.resolvedResponseType!.fullName.slice(1),
        clientStreaming: m.requestStream === true,
        serverStreaming: m.responseStream === true,
      }));
      services.set(obj.fullName.slice(1), { fullName: obj.fullName.slice(1), methods });
    }
    if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) collect(obj, messages, services);
  }
}

const messageMap = new Map<string, MessageSchema>();
const serviceMap = new Map<string, ServiceSchema>();
collect(protoRoot, messageMap, serviceMap);

/** Every message of the API by full name. */
export const messageSchemas: ReadonlyMap<string, MessageSchema> = messageMap;
/** Every service of the API by full name. */
export const serviceSchemas: ReadonlyMap<string, ServiceSchema> = serviceMap;

/** Enum values by full enum name (`etcdserverpb.RangeRequest.SortOrder` → { NONE: 0, ... }). */
export function enumValues(fullName: string): Readonly<Record<string, number>> {
  return protoRoot.lookupEnum(fullName).values;
}
