// The client port: one GrpcServer per --listen-client-urls entry serving etcd's v3 gRPC services
// and the HTTP endpoints (/health, /version) on the same port, as etcd does.
import type { Member } from '../server/member.ts';
import { RequestIdGenerator } from '../server/ids.ts';
import { GrpcServer } from './grpc/server/index.ts';
import { addKvService } from './grpc/kv-service.ts';
import { addLeaseService } from './grpc/lease-service.ts';
import { addMaintenanceService } from './grpc/maintenance-service.ts';
import { addClusterService } from './grpc/cluster-service.ts';
import { addWatchService } from './grpc/watch-service.ts';
import { healthHandler, versionHandler } from './http/health.ts';
import { etcdError } from './grpc/errors.ts';

/** Bytes of gRPC overhead allowed beyond max-request-bytes (etcd's grpcOverheadBytes). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** What the client servers need besides the member. */
export interface ClientServerOptions {
  listenUrls: readonly string[];
  requestBytesMax: number;
  txnOpsMax: number;
}

/** The running client servers. */
export interface ClientServers {
  /** host:port actually bound, per listen URL (port 0 picks a free one). */
  addresses: string[];
  close(): Promise<void>;
}

/** Builds one server with every service of a member. */
export function buildClientServer(member: Member, options: Omit<ClientServerOptions, 'listenUrls'>): GrpcServer {
  const server = new GrpcServer({
    maxReceiveMessageBytes: options.requestBytesMax + GRPC_OVERHEAD_BYTES,
    admit: (def, request) => admitForLearner(member, def.path, request),
  });
  const leaseIds = new RequestIdGenerator(member.id, Date.now());
  addKvService(server, member, { txnOpsMax: options.txnOpsMax });
  addWatchService(server, member, { requestBytesMax: options.requestBytesMax });
  addLeaseService(server, member, leaseIds);
  addClusterService(server, member);
  addMaintenanceService(server, member);
  server.addHttpHandler('/health', healthHandler(member));
  server.addHttpHandler('/version', versionHandler());
  return server;
}

/**
 * etcd's learner interceptor: a learner serves only Status and serializable Range; everything
 * else (streams included) answers "rpc not supported for learner" so clients go elsewhere.
 */
function admitForLearner(member: Member, path: string, request: unknown): void {
  if (!member.isLearner()) return;
  if (path === '/etcdserverpb.Maintenance/Status') return;
  if (path === '/etcdserverpb.KV/Range' && (request as { serializable?: boolean } | undefined)?.serializable === true) return;
  throw etcdError('notSupportedForLearner');
}

/** Listens on every client URL. */
export async function startClientServers(member: Member, options: ClientServerOptions): Promise<ClientServers> {
  const servers: GrpcServer[] = [];
  const addresses: string[] = [];
  try {
    for (const raw of options.listenUrls) {
      const url = new URL(raw);
      if (url.protocol !== 'http:') throw new Error(`concord: ${raw}: only http:// client URLs are served so far`);
      const server = buildClientServer(member, options);
      servers.push(server);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = await server.listen(Number(url.port || 2379), host);
      addresses.push(`${url.hostname}:${port}`);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close(0)));
    throw err;
  }
  return {
    addresses,
    close: async () => {
      await Promise.all(servers.map((s) => s.close(2000)));
    },
  };
}
