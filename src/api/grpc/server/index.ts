// api/grpc/server/: a lean gRPC framework on node:http2 (framing, status, deadlines, streaming,
// one port for gRPC and HTTP). No etcd logic: etcd's services plug in through method descriptors.
export { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, GrpcServer } from './server.ts';
export type { GrpcServerOptions, GrpcTlsOptions, HttpHandler } from './server.ts';
export {
  decodeGrpcMessage,
  encodeGrpcMessage,
  GrpcError,
  GrpcMessages,
  GrpcStatus,
  parseGrpcTimeout,
} from './status.ts';
export type { GrpcMetadata } from './status.ts';
export { REQUEST_QUEUE_HIGH_WATER } from './request-queue.ts';
export type {
  BidiStreamingHandler,
  ClientStreamingHandler,
  HandlerFor,
  MethodDefinition,
  ServerCall,
  ServerStreamingHandler,
  ServerWritableCall,
  UnaryHandler,
} from './types.ts';
