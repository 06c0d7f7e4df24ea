// etcd's Cluster service: membership as the applied log defines it; changes go through Raft as
// configuration changes (add, remove, promote) or requests (update) and answer once applied.
import type { Member } from '../../server/member.ts';
import type { MemberInfo } from '../../server/storage.ts';
import { services } from '../../proto/index.ts';
import type { GrpcServer } from './server/index.ts';
import { toGrpcError } from './errors.ts';

function wire(m: MemberInfo): { ID: bigint; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean } {
  return { ID: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

/** Registers Cluster on `server`, served by `member`. */
export function addClusterService(server: GrpcServer, member: Member): void {
  // NB: etcd's cluster server header has no revision (ClusterServer.header()).
  const header = (): ReturnType<Member['header']> => ({ ...member.header(), revision: 0 });
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toGrpcError(err);
    }
  };
  server.addService(services['etcdserverpb.Cluster'], {
    MemberList: () => ({ header: header(), members: member.members().map(wire) }),
    MemberAdd: (req, call) =>
      guard(async () => {
        const { member: added, members } = await member.addMember([...req.peerURLs], req.isLearner, { signal: call.signal });
        return { header: header(), member: wire(added), members: members.map(wire) };
      }),
    MemberRemove: (req, call) =>
      guard(async () => {
        const members = await member.removeMember(req.ID, { signal: call.signal });
        return { header: header(), members: members.map(wire) };
      }),
    MemberUpdate: (req, call) =>
      guard(async () => {
        const members = await member.updateMember(req.ID, [...req.peerURLs], { signal: call.signal });
        return { header: header(), members: members.map(wire) };
      }),
    MemberPromote: (req, call) =>
      guard(async () => {
        const members = await member.promoteMember(req.ID, { signal: call.signal });
        return { header: header(), members: members.map(wire) };
      }),
  });
}
