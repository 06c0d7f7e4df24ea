// A bare gRPC client for bad-input tests: unary calls encoded with our own codecs (so any message
// can be built, bigints included) or sent as raw bytes (malformed protobuf), and raw HTTP/2
// streams for malformed gRPC frames. Outcomes are plain data: a response, or a status.
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { methodByPath } from '../../src/proto/index.ts';

/** What a call ended with. */
export type Outcome = { ok: true; value: unknown } | { ok: false; code: number; details: string };

/** One call on a fresh connection to `endpoint` (host:port); `request` may be raw bytes. */
export function unary(endpoint: string, path: string, request: object | Buffer): Promise<Outcome> {
  const method = methodByPath(path);
  if (method === undefined) throw new Error(`no method ${path}`);
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (msg: object | Buffer) => (Buffer.isBuffer(msg) ? msg : method.request.encode(msg as never)),
      (bytes: Buffer) => method.response.decode(bytes),
      request,
      { deadline: Date.now() + 30_000 },
      (err, value) => {
        client.close();
        resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, value });
      },
    );
  });
}

/** A status as compared between servers (`ok` for any success). */
export function status(o: Outcome): string {
  return o.ok ? 'ok' : `${grpc.status[o.code]}: ${o.details}`;
}

/** What a raw HTTP/2 gRPC exchange ended with. */
export interface RawOutcome {
  httpStatus: number | undefined;
  grpcStatus: string | undefined;
  grpcMessage: string | undefined;
}

/** A gRPC frame: compressed flag, big-endian length (`length` may lie), payload. */
export function frame(payload: Buffer, options: { compressed?: boolean; length?: number } = {}): Buffer {
  const header = Buffer.alloc(5);
  header[0] = options.compressed === true ? 1 : 0;
  header.writeUInt32BE(options.length ?? payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** Posts `body` as a gRPC request on a raw HTTP/2 stream; reads the status from headers or trailers. */
export function rawCall(endpoint: string, path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${endpoint}`);
    session.on('error', reject);
    const out: RawOutcome = { httpStatus: undefined, grpcStatus: undefined, grpcMessage: undefined };
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (h[':status'] !== undefined) out.httpStatus = Number(h[':status']);
      if (h['grpc-status'] !== undefined) out.grpcStatus = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) out.grpcMessage = decodeURIComponent(String(h['grpc-message']));
    };
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    req.setTimeout(30_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', () => undefined);
    req.on('error', () => undefined);
    req.on('close', () => {
      session.close();
      resolve(out);
    });
    req.end(body);
  });
}
