// The cluster operations the fault layer needs, through Debian's etcdctl (v3 API) from the root
// namespace: a member's status (who it thinks leads, at which term), the member list, and member
// remove/add. The same client drives concord and etcd, so both answer the same gRPC calls.
// 64-bit ids stay exact: JSON numbers past 2^53 are quoted before parsing; ids are bigint.
import { run } from '../net/command.ts';

/** Where Debian installs etcdctl. */
export const ETCDCTL_BIN = '/usr/bin/etcdctl';

/** What Maintenance.Status says about one member. */
export interface MemberStatus {
  memberId: bigint;
  /** The member this one believes leads (0n: none). */
  leader: bigint;
  raftTerm: number;
  raftIndex: number;
}

/** One row of the member list. */
export interface MemberListing {
  id: bigint;
  /** Empty for a member added but not yet started. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  learner: boolean;
}

/** Options of every call. */
export interface CtlOptions {
  /** etcdctl's --command-timeout, in ms (default 2000). */
  timeoutMs?: number;
}

/** An environment without ETCDCTL_* settings of the machine, which would change the calls. */
function ctlEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('ETCDCTL_')) env[key] = value;
  }
  env['ETCDCTL_API'] = '3';
  return env;
}

async function etcdctl(endpoints: readonly string[], args: readonly string[], options: CtlOptions):
  Promise<string> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const flags = [
    `--endpoints=${endpoints.join(',')}`,
    `--dial-timeout=${Math.min(timeoutMs, 2_000)}ms`,
    `--command-timeout=${timeoutMs}ms`,
  ];
  const { stdout } = await run(ETCDCTL_BIN, [...flags, ...args], {
    env: ctlEnv(),
    timeoutMs: timeoutMs + 5_000,
  });
  return stdout;
}

/** Quotes integers too long for a double, so JSON.parse keeps every digit. */
function parseJson(text: string): unknown {
  return JSON.parse(text.replace(/("[A-Za-z_]+":\s*)(\d{16,})/g, '$1"$2"'));
}

/** The status of the member at `endpoint` (`host:port`). */
export async function endpointStatus(endpoint: string, options: CtlOptions = {}):
  Promise<MemberStatus> {
  const out = await etcdctl([endpoint], ['endpoint', 'status', '-w', 'json'], options);
  type Row = {
    Status: {
      header: { member_id: string | number };
      leader: string | number;
      raftTerm: number;
      raftIndex: number;
    };
  };
  const rows = parseJson(out) as Row[];
  const status = rows[0]?.Status;
  if (status === undefined) throw new Error(`chaos: no status from ${endpoint}: ${out}`);
  return {
    memberId: BigInt(status.header.member_id),
    leader: BigInt(status.leader ?? 0),
    raftTerm: Number(status.raftTerm ?? 0),
    raftIndex: Number(status.raftIndex ?? 0),
  };
}

/** The cluster's members, asked through any of `endpoints`. */
export async function memberList(endpoints: readonly string[], options: CtlOptions = {}):
  Promise<MemberListing[]> {
  const out = await etcdctl(endpoints, ['member', 'list', '-w', 'json'], options);
  type Row = {
    ID: string | number;
    name?: string;
    peerURLs?: string[];
    clientURLs?: string[];
    isLearner?: boolean;
  };
  const { members } = parseJson(out) as { members?: Row[] };
  return (members ?? []).map((m) => ({
    id: BigInt(m.ID),
    name: m.name ?? '',
    peerUrls: m.peerURLs ?? [],
    clientUrls: m.clientURLs ?? [],
    learner: m.isLearner ?? false,
  }));
}

/** MemberRemove of `id`. */
export async function memberRemove(
  endpoints: readonly string[], id: bigint, options: CtlOptions = {},
): Promise<void> {
  await etcdctl(endpoints, ['member', 'remove', id.toString(16)], options);
}

/**
 * MemberAdd of `name` at `peerUrl`; the `--initial-cluster` the new member must start with (every
 * member's name and peer URLs, the new one's included), as etcdctl prints it.
 */
export async function memberAdd(
  endpoints: readonly string[], name: string, peerUrl: string, options: CtlOptions = {},
): Promise<string> {
  const out = await etcdctl(endpoints, ['member', 'add', name, `--peer-urls=${peerUrl}`], options);
  const match = /^ETCD_INITIAL_CLUSTER="([^"]*)"$/m.exec(out);
  if (match === null) throw new Error(`chaos: no ETCD_INITIAL_CLUSTER from member add: ${out}`);
  return match[1]!;
}
