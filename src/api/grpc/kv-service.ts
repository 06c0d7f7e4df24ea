// etcd's KV service: validate, hand to the member, map errors. No business logic here.
import type { Member } from '../../server/member.ts';
import { services } from '../../proto/index.ts';
import type { GrpcServer } from './server/index.ts';
import { toGrpcError } from './errors.ts';
import { checkDelete, checkPut, checkRange, checkTxn } from './validate.ts';

/** Registers KV on `server`, served by `member`. */
export function addKvService(server: GrpcServer, member: Member, limits: { txnOpsMax: number }): void {
  server.addService(services['etcdserverpb.KV'], {
    // NB: unary calls pass no AbortSignal on: building one per request costs more than the
    // request, and an abandoned proposal still applies; its waiter ends on apply or deadline.
    Range: async (req) => {
      checkRange(req);
      try {
        const { header, response } = await member.range(req);
        return { header, ...response };
      } catch (err) {
        throw toGrpcError(err);
      }
    },
    Put: async (req) => {
      checkPut(req);
      return respond(member.propose('put', req));
    },
    DeleteRange: async (req) => {
      checkDelete(req);
      return respond(member.propose('deleteRange', req));
    },
    Txn: async (req) => {
      checkTxn(req, limits.txnOpsMax);
      // TODO(perf): etcd serves a read-only txn locally after a ReadIndex; through Raft it is
      // just as linearizable, only slower.
      return respond(member.propose('txn', req));
    },
    Compact: async (req) => respond(member.propose('compaction', req)),
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
