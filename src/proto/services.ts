// The service descriptor table: every RPC of the API with its path, request and response codecs
// and streaming shape, typed from messages.ts. The gRPC server and the client look methods up here.
import { codec } from './codec.ts';
import type { Codec, MessageName } from './codec.ts';
import type { ServiceTypes } from './messages.ts';
import { serviceSchemas } from './schema.ts';

/** Full names of every service (`etcdserverpb.KV`). */
export type ServiceName = keyof ServiceTypes;

/** The shape ServiceTypes gives one method. */
interface MethodShape {
  request: unknown;
  response: unknown;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

/** One RPC method, typed by its request and response messages. */
export interface MethodDescriptor<M extends MethodShape = MethodShape> {
  /** Service full name: `etcdserverpb.KV`. */
  readonly service: string;
  /** Method name: `Put`. */
  readonly name: string;
  /** HTTP/2 path of the call: `/etcdserverpb.KV/Put`. */
  readonly path: string;
  readonly requestType: string;
  readonly responseType: string;
  readonly request: Codec<M['request']>;
  readonly response: Codec<M['response']>;
  readonly clientStreaming: M['clientStreaming'];
  readonly serverStreaming: M['serverStreaming'];
}

/** Descriptors of one service's methods, by method name. */
export type ServiceDescriptor<S extends ServiceName> = {
  readonly [K in keyof ServiceTypes[S]]: ServiceTypes[S][K] extends MethodShape
    ? MethodDescriptor<ServiceTypes[S][K]>
    : never;
};

function buildTable(): Record<string, Record<string, MethodDescriptor>> {
  const table: Record<string, Record<string, MethodDescriptor>> = {};
  for (const svc of serviceSchemas.values()) {
    const methods: Record<string, MethodDescriptor> = {};
    for (const m of svc.methods) {
      methods[m.name] = {
        service: svc.fullName,
        name: m.name,
        path: `/${svc.fullName}/${m.name}`,
        requestType: m.requestType,
        responseType: m.responseType,
        request: codec(m.requestType as MessageName) as Codec<unknown>,
        response: codec(m.responseType as MessageName) as Codec<unknown>,
        clientStreaming: m.clientStreaming,
        serverStreaming: m.serverStreaming,
      };
    }
    table[svc.fullName] = methods;
  }
  return table;
}

/** Every service of the API: `services['etcdserverpb.KV'].Put.request.decode(...)`. */
export const services = buildTable() as unknown as { readonly [S in ServiceName]: ServiceDescriptor<S> };

/** Looks a method up by its HTTP/2 path (`/etcdserverpb.KV/Put`); undefined when unknown. */
export function methodByPath(path: string): MethodDescriptor | undefined {
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 47 || slash < 0) return undefined;
  const svc = (services as unknown as Record<string, Record<string, MethodDescriptor>>)[
    path.slice(1, slash)
  ];
  return svc?.[path.slice(slash + 1)];
}
