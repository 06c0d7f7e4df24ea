// A do-nothing etcdserverpb.KV/Put server on the lean gRPC layer, to measure framework overhead
// with h2load (compare DESIGN.md: bare node:http2 ~54k/s, @grpc/grpc-js ~34k/s at 256 in flight).
// Run: npx tsx bench/grpc-noop.ts [--port N] [--run]  (--run drives h2load itself, then exits)
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcServer } from '../src/api/grpc/server/index.ts';
import { codec, services } from '../src/proto/index.ts';

const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : 0;

const KV = services['etcdserverpb.KV'];
const response = { header: { clusterId: 0x1234567890abcdefn, memberId: 0x1n, revision: 1, raftTerm: 2 } };
const server = new GrpcServer();
server.addService(KV, { Put: () => response });
const bound = await server.listen(port, '127.0.0.1');

// 32-byte key, 256-byte value: the workload of DESIGN.md's etcd figures.
const body = join(tmpdir(), 'concord-put-body.bin');
writeFileSync(body, codec('etcdserverpb.PutRequest').encodeFrame({ key: 'k'.repeat(32), value: 'v'.repeat(256) }));
const h2loadArgs = [
  '-n', '300000', '-c', '4', '-m', '64', // 256 in flight
  '-H', 'content-type: application/grpc', '-H', 'te: trailers',
  '-d', body, `http://127.0.0.1:${bound}${KV.Put.path}`,
];
console.log(`no-op Put server on 127.0.0.1:${bound}; measure with:\n  h2load ${h2loadArgs.join(' ')}`);

if (args.includes('--run')) {
  execFile('h2load', h2loadArgs, (err, stdout) => {
    console.log(err ? `h2load failed: ${err.message}` : stdout);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
