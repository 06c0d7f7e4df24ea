// etcd's Lease service: grant and revoke go through Raft; keep-alives are renewed by the leader's
// lessor; time-to-live and listing read the lessor.
import type { Member } from '../../server/member.ts';
import { services } from '../../proto/index.ts';
import type { GrpcServer } from './server/index.ts';
import { toGrpcError } from './errors.ts';

/** Registers Lease on `server`, served by `member`. */
export function addLeaseService(server: GrpcServer, member: Member, ids: { next(): bigint }): void {
  server.addService(services['etcdserverpb.Lease'], {
    LeaseGrant: async (req, call) => {
      // etcd picks a positive id when the client leaves it 0.
      let id = req.ID;
      while (id === 0n) id = ids.next() & 0x7fff_ffff_ffff_ffffn;
      try {
        const { header, response } = await member.propose('leaseGrant', { ID: id, TTL: req.TTL }, { signal: call.signal });
        return { ...(response as { ID: bigint; TTL: number; error: string }), header };
      } catch (err) {
        throw toGrpcError(err);
      }
    },
    LeaseRevoke: async (req, call) => {
      try {
        const { header } = await member.propose('leaseRevoke', { ID: req.ID }, { signal: call.signal });
        return { header };
      } catch (err) {
        throw toGrpcError(err);
      }
    },
    LeaseKeepAlive: async (requests, call) => {
      for await (const req of requests) {
        let ttl: number;
        try {
          // A lease that is gone answers TTL 0; the stream goes on (etcd).
          ttl = await member.leaseKeepAlive(req.ID, { signal: call.signal });
        } catch (err) {
          throw toGrpcError(err);
        }
        if (!(await call.send({ header: member.header(), ID: req.ID, TTL: ttl }).then(() => true, () => false))) return;
      }
    },
    LeaseTimeToLive: async (req, call) => {
      let ttl;
      try {
        ttl = await member.leaseTimeToLive(req.ID, req.keys, { signal: call.signal });
      } catch (err) {
        throw toGrpcError(err);
      }
      if (ttl === undefined) return { header: member.header(), ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
      return { header: member.header(), ID: req.ID, TTL: ttl.ttlSeconds, grantedTTL: ttl.grantedTtlSeconds, keys: ttl.keys };
    },
    LeaseLeases: async (_req, call) => {
      try {
        await member.linearizableBarrier({ signal: call.signal });
      } catch (err) {
        throw toGrpcError(err);
      }
      return { header: member.header(), leases: member.lessor.leases().map((l) => ({ ID: l.id })) };
    },
  });
}
