// The real etcdctl (API v3) driving a cluster under test: membership changes with the retries an
// operator needs (etcd refuses a change for a while after a member starts: "unhealthy cluster"),
// and etcdctl's JSON read with 64-bit ids kept exact.
import { type CtlResult, etcdctl } from '../etcdctl-side.ts';
import { type Cluster, type ClusterMember, HEALTHY_TIMEOUT_MS, sleep } from './cluster.ts';

export type { CtlResult };

/** Runs etcdctl against `endpoints` (host:port,...); throws on a non-zero exit. */
export async function ctlOk(endpoints: string, args: readonly string[]): Promise<CtlResult> {
  const res = await etcdctl(endpoints, args);
  if (res.code !== 0) {
    const cmd = `etcdctl --endpoints ${endpoints} ${args.join(' ')}`;
    throw new Error(`${cmd} exited ${res.code}:\n${res.stdout}${res.stderr}`);
  }
  return res;
}

/** Parses etcdctl's JSON, turning integers too large for a double into strings (exact ids). */
export function parseCtlJson(text: string): unknown {
  return JSON.parse(text.replace(/([:[,])(\d{16,})(?=[,}\]])/g, '$1"$2"'));
}

/**
 * Repeats etcdctl `args` until it succeeds, while it fails with one of `transient` (an error
 * etcd gives until the cluster settles); any other failure, or running out of time, throws.
 */
export async function ctlRetry(
  endpoints: () => string,
  args: readonly string[],
  transient: readonly RegExp[],
  timeoutMs = HEALTHY_TIMEOUT_MS,
): Promise<{ result: CtlResult; refusals: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const refusals: string[] = [];
  while (true) {
    const result = await etcdctl(endpoints(), args);
    if (result.code === 0) return { result, refusals };
    refusals.push(result.error);
    if (!transient.some((re) => re.test(result.error)) || Date.now() > deadline) {
      throw new Error(
        `etcdctl ${args.join(' ')} failed (${refusals.length} tries, last exit ${result.code}):\n` +
          `${result.stdout}${result.stderr}`,
      );
    }
    await sleep(500);
  }
}

/** etcd refuses a membership change until every voter has been connected for 5 s. */
const SETTLING = [
  /etcdserver: unhealthy cluster/,
  /etcdserver: re-configuration failed due to not enough started members/,
];

/** What `etcdctl member add` printed for the new member. */
export interface MemberAdded {
  id: bigint;
  /** ETCD_INITIAL_CLUSTER: the --initial-cluster the new member must start with. */
  initialCluster: string;
  stdout: string;
}

/** `etcdctl member add <name> --peer-urls=<url> [--learner]` (retried while etcd is settling). */
export async function memberAdd(
  cluster: Cluster,
  member: ClusterMember,
  options: { learner?: boolean } = {},
): Promise<MemberAdded> {
  const args = ['member', 'add', member.name, `--peer-urls=${member.peerUrl}`];
  if (options.learner === true) args.push('--learner');
  const { result } = await ctlRetry(() => cluster.endpoints(), args, SETTLING);
  // etcdctl prints ids with %16x: padded with spaces, not zeros.
  const id = /^Member +([0-9a-f]+) added to cluster +[0-9a-f]+$/m.exec(result.stdout)?.[1];
  const initialCluster = /^ETCD_INITIAL_CLUSTER="([^"]*)"$/m.exec(result.stdout)?.[1];
  if (id === undefined || initialCluster === undefined) {
    throw new Error(`member add printed:\n${result.stdout}`);
  }
  member.id = BigInt(`0x${id}`);
  member.learner = options.learner === true;
  return { id: member.id, initialCluster, stdout: result.stdout };
}

/** Adds `member` to the cluster and starts it with `--initial-cluster-state existing`. */
export async function addAndStart(
  cluster: Cluster,
  options: { learner?: boolean } = {},
): Promise<{ member: ClusterMember; added: MemberAdded }> {
  const member = await cluster.newMember();
  const added = await memberAdd(cluster, member, options);
  member.start({ initialCluster: added.initialCluster, initialClusterState: 'existing' });
  return { member, added };
}

/** One line of `etcdctl member list` (simple output). */
export interface ListedMember {
  id: string;
  status: string;
  name: string;
  peerUrls: string;
  clientUrls: string;
  isLearner: string;
}

/** `etcdctl member list`, parsed. */
export async function memberList(endpoints: string): Promise<ListedMember[]> {
  const res = await ctlOk(endpoints, ['member', 'list']);
  return res.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [id, status, name, peerUrls, clientUrls, isLearner] = line.split(', ');
      return {
        id: id!,
        status: status!,
        name: name!,
        peerUrls: peerUrls!,
        clientUrls: clientUrls!,
        isLearner: isLearner!,
      };
    });
}
