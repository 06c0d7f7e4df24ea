// etcd's KV service: validate, hand to the member, map errors. No business logic here.
import type { Member } from '../../server/member.ts';
import { services } from '../../proto/index.ts';
import type { GrpcServer } from './server/index.ts';
import { toGrpcError } from './errors.ts';
import { checkDelete, checkPut, checkRange, checkTxn } from './validate.ts';

/** Registers KV on `server`, served by `member`. */
export function addKvService(server: GrpcServer, member: Member, limits: { txnOpsMax: number }): void {
  server.addService(services['etcdserverpb.KV'], {
    Range: async (req, call) => {
      checkRange(req);
      try {
        const { header, response } = await member.range(req, { signal: call.signal });
        return { header, ...response };
      } catch (err) {
        throw toGrpcError(err);
      }
    },
    Put: async (req, call) => {
      checkPut(req);
      return respond(member.propose('put', req, { signal: call.signal }));
    },
    DeleteRange: async (req, call) => {
      checkDelete(req);
      return respond(member.propose('deleteRange', req, { signal: call.signal }));
    },
    Txn: async (req, call) => {
      checkTxn(req, limits.txnOpsMax);
      // TODO(perf): etcd serves a read-only txn locally after a ReadIndex; through Raft it is
      // just as linearizable, only slower.
      return respond(member.propose('txn', req, { signal: call.signal }));
    },
    Compact: async (req, call) => respond(member.propose('compaction', req, { signal: call.signal })),
  });
}

async function respond(p: Promise<{ header: unknown; response: unknown }>): Promise<never> {
  try {
    const { header, response } = await p;
    return { ...(response as object), header } as never;
  } catch (err) {
    throw toGrpcError(err);
  }
}
