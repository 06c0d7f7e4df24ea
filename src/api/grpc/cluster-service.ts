// etcd's Cluster service. A one-member cluster lists itself; changing membership needs the peer
// transport (clustering), and until then says so clearly.
import type { Member } from '../../server/member.ts';
import { services } from '../../proto/index.ts';
import { GrpcError, GrpcStatus, type GrpcServer } from './server/index.ts';

const notYet = (): never => {
  throw new GrpcError(GrpcStatus.UNIMPLEMENTED, 'concord: membership changes need clustering, which is not available yet');
};

/** Registers Cluster on `server`, served by `member`. */
export function addClusterService(server: GrpcServer, member: Member): void {
  server.addService(services['etcdserverpb.Cluster'], {
    MemberList: () => ({
      // NB: etcd's cluster server header has no revision (ClusterServer.header()).
      header: { ...member.header(), revision: 0 },
      members: member.members().map((m) => ({ ID: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner })),
    }),
    MemberAdd: notYet,
    MemberRemove: notYet,
    MemberUpdate: notYet,
    MemberPromote: notYet,
  });
}
