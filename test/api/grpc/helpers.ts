// Test helpers: a GrpcServer on 127.0.0.1 with a free port, grpc-js clients built from our own
// .proto files (proto-loader), promise wrappers for unary calls.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GrpcServer } from '../../../src/api/grpc/server/index.ts';
import type { GrpcServerOptions } from '../../../src/api/grpc/server/index.ts';
import { PROTO_DIR, PROTO_FILES } from '../../../src/proto/index.ts';

const packageDefinition = protoLoader.loadSync(PROTO_FILES.slice(), {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  defaults: true,
});
/** The API as grpc-js sees it. */
export const api = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  etcdserverpb: Record<string, grpc.ServiceClientConstructor>;
};

/** Starts a server on 127.0.0.1, port 0, after `register` adds its methods. */
export async function startServer(
  register: (server: GrpcServer) => void,
  options: GrpcServerOptions = {},
): Promise<{ server: GrpcServer; port: number }> {
  const server = new GrpcServer(options);
  register(server);
  const port = await server.listen(0, '127.0.0.1');
  return { server, port };
}

/** A grpc-js client of one etcdserverpb service. */
export function client(
  service: string,
  port: number,
  credentials = grpc.credentials.createInsecure(),
  options: grpc.ClientOptions = {},
): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const Ctor = api.etcdserverpb[service]!;
  return new Ctor(`127.0.0.1:${port}`, credentials, options) as never;
}

/** Makes a unary call and resolves with the response or rejects with the ServiceError. */
export function unary<T = Record<string, unknown>>(
  c: grpc.Client & Record<string, (...args: unknown[]) => unknown>,
  method: string,
  request: object,
  opts: { metadata?: grpc.Metadata; deadlineMs?: number; onMetadata?: (md: grpc.Metadata) => void } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const options: grpc.CallOptions = {};
    if (opts.deadlineMs !== undefined) options.deadline = Date.now() + opts.deadlineMs;
    const call = c[method]!(request, opts.metadata ?? new grpc.Metadata(), options, (err: unknown, res: T) =>
      err ? reject(err as Error) : resolve(res),
    ) as grpc.ClientUnaryCall;
    if (opts.onMetadata !== undefined) call.on('metadata', opts.onMetadata);
  });
}

/** Rejects unless `p` fails with a grpc ServiceError; resolves with it. */
export async function callError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** A promise with its resolve function outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
