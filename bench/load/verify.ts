// Correctness checks beside the load: h2load counts HTTP 200 as success, but a gRPC error is an
// HTTP 200 too (grpc-status in the trailers). So: one sample call through node:http2 that reads
// grpc-status and decodes the response, and the store's revision before and after a write run
// (each successful put or txn-put adds exactly one revision).
import http2 from 'node:http2';
import { codec, GRPC_FRAME_HEADER_BYTES } from '../../src/proto/index.ts';
import { PATHS, keyOf } from './workload.ts';

/** The outcome of one unary gRPC call. */
export interface UnaryOutcome {
  grpcStatus: number;
  grpcMessage: string;
  /** The response message, without its 5-byte prefix (empty on error). */
  message: Buffer;
  /** Bytes of the response's DATA (prefix included): what each successful call receives. */
  frameBytes: number;
}

/** One unary gRPC call with node:http2 (slow, exact: for samples and setup, not for load). */
export async function unaryCall(endpoint: string, path: string, frame: Buffer): Promise<UnaryOutcome> {
  const session = http2.connect(`http://${endpoint}`);
  try {
    return await new Promise<UnaryOutcome>((resolve, reject) => {
      session.once('error', reject);
      const req = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      req.on('response', (headers) => {
        // A trailers-only response carries the status in its headers.
        if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
        message = String(headers['grpc-message'] ?? '');
      });
      req.on('trailers', (trailers) => {
        status = String(trailers['grpc-status']);
        message = decodeURIComponent(String(trailers['grpc-message'] ?? ''));
      });
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('error', reject);
      req.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({
          grpcStatus: status === undefined ? -1 : Number(status),
          grpcMessage: message,
          message: data.subarray(GRPC_FRAME_HEADER_BYTES),
          frameBytes: data.length,
        });
      });
      req.end(frame);
    });
  } finally {
    session.close();
  }
}

/** Calls and throws unless grpc-status is 0. */
export async function unaryOk(endpoint: string, path: string, frame: Buffer): Promise<UnaryOutcome> {
  const out = await unaryCall(endpoint, path, frame);
  if (out.grpcStatus !== 0) {
    throw new Error(`bench: ${path} on ${endpoint}: grpc-status ${out.grpcStatus} ${out.grpcMessage}`);
  }
  return out;
}

/** The store's current revision (a count-only range, linearizable). */
export async function currentRevision(endpoint: string): Promise<number> {
  const frame = codec('etcdserverpb.RangeRequest').encodeFrame({ key: '\0', rangeEnd: '\0', countOnly: true });
  const out = await unaryOk(endpoint, PATHS.range, frame);
  return codec('etcdserverpb.RangeResponse').decode(out.message).header?.revision ?? 0;
}

/** How many keys exist in the benchmark's key range (keys are zero-padded digits). */
export async function keyCount(endpoint: string, keyBytes: number): Promise<number> {
  const frame = codec('etcdserverpb.RangeRequest').encodeFrame({
    key: keyOf(0, keyBytes),
    rangeEnd: '9'.repeat(keyBytes) + '\0',
    countOnly: true,
  });
  const out = await unaryOk(endpoint, PATHS.range, frame);
  return codec('etcdserverpb.RangeResponse').decode(out.message).count;
}
